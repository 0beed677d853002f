#!/usr/bin/env node
// Runs the interop cases written by gen_codes.py against the project's CLI:
//   node test/interop/run_cases.mjs DIR [path/to/citygate.js]
// For each case in DIR/cases.json it runs
//   node dist/bin/citygate.js check --trust DIR/trust.json --at AT [--site S] [--gate G] TEXT
// and compares result, reason, exit code (0 accepted, 1 refused) and, where the case
// names them, issuer/subject/category. One line per mismatch, then
// "interop: N passed, M failed"; exits 1 if any failed, 2 on a usage error.
// `expect.reason` may be a list where DESIGN.md leaves the reason open, or "*" for any
// refusal reason where DESIGN.md names none. INTEROP_ONLY=regex runs a subset.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const [dir, cliArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node test/interop/run_cases.mjs DIR [citygate.js]');
  process.exit(2);
}
const cli = resolve(cliArg ?? join(root, 'dist', 'bin', 'citygate.js'));
if (!existsSync(cli)) {
  console.error(`run_cases: ${cli} not found; build first (npx tsc -p .)`);
  process.exit(2);
}
const trust = resolve(dir, 'trust.json');
const cases = JSON.parse(readFileSync(resolve(dir, 'cases.json'), 'utf8'));
const only = process.env.INTEROP_ONLY ? new RegExp(process.env.INTEROP_ONLY) : null;

let passed = 0;
let failed = 0;
for (const c of cases) {
  if (only && !only.test(c.name)) continue;
  const args = [cli, 'check', '--trust', trust, '--at', c.at];
  if (c.site !== undefined) args.push('--site', c.site);
  if (c.gate !== undefined) args.push('--gate', c.gate);
  // '--' so that a code text is never taken for an option
  args.push('--', c.text);
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 30_000 });
  const problems = [];
  let out;
  try {
    const lines = (run.stdout ?? '').trim().split('\n').filter((l) => l.trim() !== '');
    if (lines.length !== 1) problems.push(`expected one JSON line on stdout, got ${lines.length}`);
    out = JSON.parse(lines[lines.length - 1] ?? '');
  } catch {
    out = undefined;
  }
  const e = c.expect;
  const expectedExit = e.result === 'accepted' ? 0 : 1;
  if (out === undefined || typeof out !== 'object' || out === null) {
    problems.push(`no JSON verdict on stdout (exit ${run.status}${run.signal ? `, signal ${run.signal}` : ''}; stderr: ${(run.stderr ?? '').trim().slice(0, 300)})`);
  } else {
    if (out.result !== e.result) problems.push(`result ${JSON.stringify(out.result)} != ${JSON.stringify(e.result)}`);
    const okReasons = Array.isArray(e.reason) ? e.reason : [e.reason];
    const anyRefusal = e.reason === '*' && typeof out.reason === 'string' && out.reason !== 'ok' && out.reason !== '';
    if (!anyRefusal && !okReasons.includes(out.reason)) {
      problems.push(`reason ${JSON.stringify(out.reason)} != ${okReasons.map((r) => JSON.stringify(r)).join(' | ')}`);
    }
    for (const k of ['issuer', 'subject', 'category']) {
      if (k in e && out[k] !== e[k]) problems.push(`${k} ${JSON.stringify(out[k])} != ${JSON.stringify(e[k])}`);
    }
    if (!('result' in out && 'reason' in out && 'issuer' in out && 'subject' in out && 'category' in out)) {
      problems.push(`verdict lacks one of result/reason/issuer/subject/category: ${JSON.stringify(out)}`);
    }
  }
  if (run.status !== expectedExit) problems.push(`exit ${run.status} != ${expectedExit}`);
  if (problems.length === 0) {
    passed++;
  } else {
    failed++;
    const detail = out && typeof out === 'object' && out.detail !== undefined ? ` (detail: ${JSON.stringify(out.detail)})` : '';
    console.log(`FAIL ${c.name}: ${problems.join('; ')}${detail}${e.note ? ` [note: ${e.note}]` : ''}`);
  }
}
console.log(`interop: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
