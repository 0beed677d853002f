// Cross-check of the CG1 city code verifier (DESIGN.md §2) against an independent
// implementation: test/interop/gen_codes.py (Python, written from DESIGN.md and the
// RFCs only, not from this project's encoder) writes a trust list and signed codes,
// and test/interop/run_cases.mjs feeds each one to `citygate check`.
// Needs /usr/bin/python3 with the Debian packages python3-cbor2 and
// python3-cryptography (scripts/setup.sh --system installs them; CI does), and the
// build in dist/ (npx tsc -p .). This test never skips: a missing piece is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const python = '/usr/bin/python3';
const generator = join(root, 'test', 'interop', 'gen_codes.py');
const runner = join(root, 'test', 'interop', 'run_cases.mjs');
const cli = join(root, 'dist', 'bin', 'citygate.js');
const INSTALL_HINT =
  'the interop test needs /usr/bin/python3 with the Debian packages python3-cbor2 and python3-cryptography: ' +
  'apt-get install -y python3-cbor2 python3-cryptography (or: bash scripts/setup.sh --system)';

describe('interop: independent CG1 code generator against `citygate check`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-interop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts and refuses every generated code as DESIGN §2 says', () => {
    if (!existsSync(python)) throw new Error(`${python} not found; ${INSTALL_HINT}`);
    const probe = spawnSync(python, ['-c', 'import cbor2, cryptography'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      throw new Error(`${INSTALL_HINT}\n${probe.stderr ?? ''}${probe.error ? String(probe.error) : ''}`);
    }
    if (!existsSync(cli)) throw new Error(`${cli} not found: build first (npx tsc -p .)`);

    const gen = spawnSync(python, [generator, dir], { encoding: 'utf8', timeout: 120_000 });
    expect(gen.status, `gen_codes.py failed:\n${gen.stdout}${gen.stderr}`).toBe(0);
    const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as unknown[];
    expect(cases.length).toBeGreaterThanOrEqual(30);

    const run = spawnSync(process.execPath, [runner, dir, cli], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    expect(output, output).toContain(`interop: ${cases.length} passed, 0 failed`);
    expect(run.status, output).toBe(0);
  }, 400_000);
});
