import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestHolder, TestIssuer, trustListOf } from '../sim/issuer.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');
const dir = mkdtempSync(join(tmpdir(), 'citygate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function citygate(args: string[], input?: string) {
  const run = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const AT = '2026-11-23T08:00:00Z';
const NOW = Date.parse(AT) / 1000;
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const tianfu = new TestIssuer('sc.tianfu', 'EdDSA');
const trust = join(dir, 'trust.json');
writeFileSync(trust, JSON.stringify(trustListOf([issuer, tianfu])));

describe('citygate check', () => {
  it('accepts a valid code: exit 0 and one JSON object', () => {
    const run = citygate(['check', '--trust', trust, '--at', AT, issuer.issuerCode({ sub: 'acct-1', iat: NOW, category: 'student' })]);
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ result: 'accepted', reason: 'ok', issuer: 'cq.yukuaima', subject: 'acct-1', category: 'student', profile: 'issuer' });
  });

  it('accepts an offline code read from standard input', () => {
    const holder = TestHolder.enrol(tianfu, { sub: 'h-1', iat: NOW - 86_400 }, 'EdDSA');
    const run = citygate(['check', '--trust', trust, '--at', AT, '-'], `${holder.offlineCode(NOW - 10)}\n`);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ result: 'accepted', issuer: 'sc.tianfu', subject: 'h-1', profile: 'holder' });
  });

  it('refuses with exit 1 and the reason', () => {
    const expired = citygate(['check', '--trust', trust, '--at', AT, issuer.issuerCode({ sub: 'acct-1', iat: NOW - 600, exp: NOW - 300 })]);
    expect(expired.status).toBe(1);
    expect(JSON.parse(expired.stdout)).toMatchObject({ result: 'refused', reason: 'expired', subject: 'acct-1' });
    const garbage = citygate(['check', '--trust', trust, 'hello']);
    expect(garbage.status).toBe(1);
    expect(JSON.parse(garbage.stdout)).toMatchObject({ result: 'refused', reason: 'malformed', issuer: null, subject: null, category: null });
  });

  it('applies --site and --deny', () => {
    const ticket = issuer.issuerCode({ sub: 'acct-2', iat: NOW, product: { site: 'park-north', entries: 1 } });
    expect(JSON.parse(citygate(['check', '--trust', trust, '--at', AT, '--site', 'park-north', ticket]).stdout).reason).toBe('ok');
    expect(JSON.parse(citygate(['check', '--trust', trust, '--at', AT, '--site', 'park-south', ticket]).stdout).reason).toBe('wrong-site');
    const deny = join(dir, 'deny.json');
    writeFileSync(deny, JSON.stringify({ 'cq.yukuaima': ['acct-2'] }));
    expect(JSON.parse(citygate(['check', '--trust', trust, '--at', AT, '--deny', deny, ticket]).stdout).reason).toBe('deny-listed');
  });

  it('exits 2 with a message a technician can act on for usage and file errors', () => {
    const code = issuer.issuerCode({ sub: 'a', iat: NOW });
    const noTrust = citygate(['check', code]);
    expect(noTrust.status).toBe(2);
    expect(noTrust.stderr).toMatch(/--trust/);

    const missing = citygate(['check', '--trust', join(dir, 'nope.json'), code]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read trust list .*nope\.json: ENOENT/);

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ issuers: [{ id: 'x', keys: [{ kid: 'AQ', alg: 'RS256', kty: 'RSA', crv: '', x: 'a' }] }] }));
    const bad = citygate(['check', '--trust', broken, code]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/issuers\.0\.keys\.0\.alg/);

    const badAt = citygate(['check', '--trust', trust, '--at', 'yesterday', code]);
    expect(badAt.status).toBe(2);
    expect(badAt.stderr).toMatch(/--at "yesterday" is not an ISO-8601 time/);

    expect(citygate(['frobnicate']).status).toBe(2);
    expect(citygate(['check', '--trust', trust]).status).toBe(2);
  });
});

describe('citygate issuer', () => {
  it('makes keys and a trust list, and codes that check accepts', () => {
    const keys = join(dir, 'issuers');
    const init = citygate(['issuer', 'init', '--dir', keys, '--issuer', 'cq.yukuaima:ES256', 'sc.tianfu:EdDSA']);
    expect(init.status).toBe(0);
    const trustFile = init.stdout.trim();
    for (const [id, profile] of [['cq.yukuaima', 'issuer'], ['sc.tianfu', 'holder']]) {
      const code = citygate(['issuer', 'code', '--dir', keys, '--issuer', id!, '--sub', 'acct-5', '--category', 'senior', '--profile', profile!, '--at', AT]);
      expect(code.status).toBe(0);
      const verdict = JSON.parse(citygate(['check', '--trust', trustFile, '--at', AT, code.stdout.trim()]).stdout);
      expect(verdict).toMatchObject({ result: 'accepted', issuer: id, subject: 'acct-5', category: 'senior', profile });
    }
    const other = citygate(['issuer', 'code', '--dir', keys, '--issuer', 'nobody', '--sub', 'x']);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/no key for issuer nobody/);

    // A harness's supply: N codes, each its own holder and code id.
    const many = citygate(['issuer', 'code', '--dir', keys, '--issuer', 'cq.yukuaima', '--sub', 'load', '--count', '3', '--at', AT]);
    expect(many.status).toBe(0);
    const verdicts = many.stdout.trim().split('\n').map((text) => JSON.parse(citygate(['check', '--trust', trustFile, '--at', AT, text]).stdout));
    expect(verdicts.map((v) => [v.result, v.subject])).toEqual([['accepted', 'load-1'], ['accepted', 'load-2'], ['accepted', 'load-3']]);
    expect(citygate(['issuer', 'code', '--dir', keys, '--issuer', 'cq.yukuaima', '--sub', 'x', '--count', '0']).stderr).toMatch(/--count "0" must be a whole number/);
  });
});

describe('citygate sim', () => {
  it('runs the built-in rush hour and prints every tap as one JSON line', () => {
    const journal = join(dir, 'sim.db');
    const run = citygate(['sim', '--journal', journal]);
    expect(run.status).toBe(0);
    const taps = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(taps.length).toBeGreaterThanOrEqual(200);
    expect(taps.map((t) => t.seq)).toEqual(taps.map((_, i) => i + 1));
    expect(taps[0]).toMatchObject({ passenger: 'regular card', result: 'accepted', gate: 'CQ-L2-JFB-E03' });
    const summary = JSON.parse(run.stderr.trim().split('\n').at(-1)!).summary;
    expect(summary).toMatchObject({ taps: taps.length, mismatches: 0 });
    expect(readFileSync(journal).subarray(0, 15).toString()).toBe('SQLite format 3');
  });

  it('names the field and the allowed values of a bad scenario, exit 2', () => {
    const scenario = join(dir, 'bad.json');
    writeFileSync(scenario, JSON.stringify({ name: 'x', gate: { id: 'G', site: 'S', mode: 'ferry' }, issuers: [{ id: 'i' }] }));
    const run = citygate(['sim', '--scenario', scenario]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/gate\.mode: .*"bus".*"metro-entry".*\(got "ferry"\)/);

    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'dangling names',
        gate: { id: 'G', site: 'S', mode: 'bus' },
        issuers: [{ id: 'i' }],
        passengers: [{ again: 'later' }, { name: 'later', code: { issuer: 'k', account: 'a' } }],
      }),
    );
    const dangling = citygate(['sim', '--scenario', scenario]);
    expect(dangling.status).toBe(2);
    expect(dangling.stderr).toMatch(/passengers\.0\.again: names no earlier passenger/);
    expect(dangling.stderr).toMatch(/passengers\.1\.code\.issuer: not one of the scenario's issuers \("i"\) \(got "k"\)/);
  });

  it('exits 1 when a passenger is not treated as the scenario expects', () => {
    const scenario = join(dir, 'wrong.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'wrong expectation',
        gate: { id: 'G', site: 'S', mode: 'bus' },
        issuers: [{ id: 'i' }],
        passengers: [{ card: { issuer: 'i', number: 'C-1' }, expect: 'expired' }],
      }),
    );
    const run = citygate(['sim', '--scenario', scenario]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/mismatch: p1: expected expired, got accepted/);
  });
});
