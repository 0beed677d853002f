// Cross-check of the transport QR code verifier against an independent encoder:
// test/interop/transport_codes.py (Python, from the published layout; its SM2
// signatures are OpenSSL's, checked first against the GM/T 0003.5 example) writes
// a trust list and codes of both versions, valid and broken. Each goes through
// what `citygate check --hex` runs (in-process, to spare a Node start per case),
// and a few through the built command itself (--hex, standard input, --base64). Needs /usr/bin/python3, the openssl command and the
// build in dist/ (npx tsc -p .). Never skips: a missing piece is a failure.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCode, codeToCheck } from '../src/app/checkCommand.js';
import { InputError } from '../src/app/settingsSchema.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const python = '/usr/bin/python3';
const encoder = join(root, 'test', 'interop', 'transport_codes.py');
const cli = join(root, 'dist', 'bin', 'citygate.js');

interface Case {
  name: string;
  hex: string;
  at: string;
  expect: { result: 'accepted' | 'refused'; reason: string; subject?: string; category?: string };
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `citygate check` as a child process; `input` goes to its standard input. */
function check(args: string[], input?: string): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cli, 'check', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Two at a time: the machine has two cores, and each run is a Node start. */
async function inPairs<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

describe('interop: independent transport-code encoder against `citygate check --hex`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-transport-interop-'));
  let cases: Case[];
  let trust: string;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    if (!existsSync(python)) throw new Error(`${python} not found (Debian package python3)`);
    if (!existsSync(cli)) throw new Error(`${cli} not found: build first (npx tsc -p .)`);
    const gen = spawnSync(python, [encoder, dir], { encoding: 'utf8', timeout: 60_000 });
    expect(gen.status, `transport_codes.py failed:\n${gen.stdout}${gen.stderr}${gen.error ? String(gen.error) : ''}`).toBe(0);
    cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Case[];
    trust = join(dir, 'trust.json');
  });

  it('accepts the valid codes of both versions and refuses each broken one with its reason (check, in-process)', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    const names = cases.map((c) => c.name).join(' | ');
    for (const must of ['valid 0x80', 'valid 0x81', 'tampered', 'wrongly signed', 'unknown root', 'expired certificate', 'expired authorisation', 'stale', 'future', 'truncated']) {
      expect(names).toContain(must);
    }
    // What the command runs for `check --trust T --at AT --hex HEX`, without a Node start per case.
    const problems = cases.flatMap((c) => {
      const out = checkCode(codeToCheck(undefined, { hex: c.hex }), { trust, at: c.at });
      const got = { result: out.result, reason: out.reason, ...(c.expect.subject ? { subject: out.subject } : {}), ...(c.expect.category ? { category: out.category } : {}) };
      return JSON.stringify(got) === JSON.stringify(c.expect) ? [] : [`${c.name}: got ${JSON.stringify(got)}, expected ${JSON.stringify(c.expect)} (${String(out.detail)})`];
    });
    expect(problems).toEqual([]);
  });

  it('the command itself: --hex, --hex - (standard input), --base64; the verdict on stdout, exit 0 or 1; a bad payload is exit 2', async () => {
    const byName = (name: string) => cases.find((c) => c.name === name)!;
    const valid80 = byName('valid 0x80');
    const valid81 = byName('valid 0x81');
    const tampered = byName('tampered account number');
    const unknownRoot = byName('unknown root');
    const runs = await inPairs(
      [
        { args: ['--hex', valid80.hex], at: valid80 },
        // A dump wrapped over lines, piped in.
        { args: ['--hex', '-'], at: valid81, input: `${valid81.hex.match(/.{1,64}/g)!.join('\n')}\n` },
        { args: ['--base64', Buffer.from(tampered.hex, 'hex').toString('base64url')], at: tampered },
        { args: ['--hex', unknownRoot.hex], at: unknownRoot },
        { args: ['--hex', '80014'], at: valid80 },
      ],
      (r) => check(['--trust', trust, '--at', r.at.at, ...r.args], r.input),
    );
    const verdict = (run: Run) => ({ ...(JSON.parse(run.stdout) as Record<string, unknown>), status: run.status, stderr: run.stderr });
    expect(verdict(runs[0]!)).toMatchObject({ result: 'accepted', reason: 'ok', issuer: 'transport', subject: valid80.expect.subject, category: 'adult', profile: 'transport', status: 0, stderr: '' });
    expect(verdict(runs[1]!)).toMatchObject({ result: 'accepted', reason: 'ok', subject: valid81.expect.subject, status: 0, stderr: '' });
    expect(verdict(runs[2]!)).toMatchObject({ result: 'refused', reason: 'bad-signature', status: 1, stderr: '' });
    expect(verdict(runs[3]!)).toMatchObject({ result: 'refused', reason: 'unknown-key', status: 1, stderr: '' });
    expect(runs[4]).toEqual({ status: 2, stdout: '', stderr: 'citygate: --hex: an odd number of hex digits\n' });
  }, 60_000);

  it('takes base64 in both alphabets; anything that is not hex or base64, or a code given twice or not at all, is a usage error', () => {
    const valid = Buffer.from(cases[0]!.hex, 'hex');
    expect(codeToCheck(undefined, { base64: valid.toString('base64') })).toEqual(Uint8Array.from(valid));
    expect(codeToCheck(undefined, { base64: valid.toString('base64url') })).toEqual(Uint8Array.from(valid));
    expect(codeToCheck(undefined, { hex: ` ${cases[0]!.hex.toUpperCase()}\n` })).toEqual(Uint8Array.from(valid));
    expect(codeToCheck('CG1:ABC', {})).toBe('CG1:ABC');
    for (const [text, options, message] of [
      [undefined, { hex: 'zz' }, '--hex: not hex digits'],
      [undefined, { base64: 'a' }, '--base64: not base64'],
      [undefined, { base64: 'ab$c' }, '--base64: not base64'],
      ['CG1:ABC', { hex: '80' }, 'give the code once: the code text and --hex given'],
      [undefined, {}, 'give the code: its text, --hex HEX or --base64 B64'],
    ] as const) {
      expect(() => codeToCheck(text, options)).toThrow(InputError);
      expect(() => codeToCheck(text, options)).toThrow(message);
    }
  });
});
