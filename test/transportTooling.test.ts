import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCode, codeToCheck } from '../src/app/checkCommand.js';

/*
 * `citygate issuer transport init|code`, the built command as a developer runs
 * it: a test root and issuer merged into an existing trust list, codes of both
 * versions that `citygate check` takes, and the faults a developer makes with
 * the options (an expired authorisation, a stale code).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'bin', 'citygate.js');
const dir = mkdtempSync(join(tmpdir(), 'citygate-transport-tool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function citygate(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

const AT = '2027-01-15T08:00:00Z';
const ACCOUNT = '3104770011223344556F';

describe('citygate issuer transport', () => {
  it('init merges a root and issuers into the trust list; code makes codes of both versions that check takes', async () => {
    const trust = join(dir, 'trust.json');
    const cgIssuer = { id: 'cq.yukuaima', keys: [] };
    writeFileSync(trust, JSON.stringify({ issuers: [cgIssuer] }));
    const init = await citygate(['issuer', 'transport', 'init', '--dir', dir, '--index', '7', '--issuer', 'c0de0001', 'C0DE0002']);
    expect(init, init.stderr).toMatchObject({ status: 0, stdout: `${trust}\n` });
    const document = JSON.parse(readFileSync(trust, 'utf8')) as { issuers: unknown[]; transport: { roots: { index: number; publicKey: string }[]; issuers: string[] } };
    expect(document.issuers).toEqual([cgIssuer]);
    expect(document.transport.roots).toMatchObject([{ index: 7, algorithm: 'SM2' }]);
    expect(document.transport.issuers).toEqual(['C0DE0001', 'C0DE0002']);
    // Private keys for development only: readable by their owner alone.
    expect(statSync(join(dir, 'transport-root-7.key.json')).mode & 0o777).toBe(0o600);

    const [interop, local, expired] = await Promise.all([
      citygate(['issuer', 'transport', 'code', '--dir', dir, '--account', ACCOUNT, '--at', AT]),
      citygate(['issuer', 'transport', 'code', '--dir', dir, '--issuer', 'C0DE0002', '--account', ACCOUNT.toLowerCase(), '--version', '81', '--type', '02', '--count', '3', '--format', 'base64', '--at', AT]),
      citygate(['issuer', 'transport', 'code', '--dir', dir, '--account', ACCOUNT, '--authorised', '-60', '--at', AT]),
    ]);
    for (const run of [interop, local, expired]) expect(run.status, run.stderr).toBe(0);
    const check = (options: { hex?: string; base64?: string }, at = AT) => checkCode(codeToCheck(undefined, options), { trust, at });

    const hex = interop.stdout.trim();
    expect(hex).toMatch(/^80014924[0-9a-f]{656}$/);
    expect(check({ hex })).toMatchObject({ result: 'accepted', issuer: 'transport', subject: ACCOUNT, category: 'adult', profile: 'transport' });
    const codes = local.stdout.trim().split('\n');
    expect(codes).toHaveLength(3);
    expect(new Set(codes).size).toBe(3);
    for (const base64 of codes) expect(check({ base64 })).toMatchObject({ result: 'accepted', subject: ACCOUNT, category: 'student' });
    expect(Buffer.from(codes[0]!, 'base64')[0]).toBe(0x81);
    // A minute and a half later the first code is stale; the authorisation that ended a minute before --at is expired.
    expect(check({ hex }, '2027-01-15T08:01:31Z')).toMatchObject({ result: 'refused', reason: 'stale', subject: ACCOUNT });
    expect(check({ hex: expired.stdout.trim() })).toMatchObject({ result: 'refused', reason: 'expired' });
  }, 60_000);

  it('says what is wrong with its options (exit 2)', async () => {
    const runs = await Promise.all([
      citygate(['issuer', 'transport', 'code', '--dir', dir, '--account', '1234']),
      citygate(['issuer', 'transport', 'code', '--dir', join(dir, 'nowhere'), '--account', ACCOUNT]),
    ]);
    expect(runs.map((r) => r.status)).toEqual([2, 2]);
    expect(runs[0]!.stderr).toBe('citygate: --account "1234": the account number, 10 bytes as 20 hex digits\n');
    expect(runs[1]!.stderr).toMatch(/^citygate: no transport issuer C0DE0001 \(expected .*transport-issuer-C0DE0001\.key\.json; run "citygate issuer transport init" first\)\n$/);
  }, 60_000);
});
