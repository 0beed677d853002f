import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { loadConfig } from '../src/app/config.js';
import { atPty, CTRL_C, CTRL_D } from './support/ptyDriver.js';

/*
 * `citygate provision` at a terminal, on a real pseudo-terminal: every answer
 * is checked at its own prompt and asked again when wrong; leaving with
 * Ctrl-C or Ctrl-D writes nothing and prints one line.
 */

const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');
const dir = mkdtempSync(join(tmpdir(), 'citygate-prompts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const trustPath = join(dir, 'trust.json');
writeFileSync(trustPath, JSON.stringify(trustListOf([new TestIssuer('cq.yukuaima', 'ES256')])));
const fleet = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = randomBytes(8).toString('base64url');
const fleetPublic = join(dir, 'fleet-public.json');
writeFileSync(fleetPublic, JSON.stringify({ ...fleet.publicKey.export({ format: 'jwk' }), kid, alg: 'ES256' }));
const fleetPrivate = join(dir, 'fleet-private.json');
writeFileSync(fleetPrivate, JSON.stringify({ ...fleet.privateKey.export({ format: 'jwk' }), kid, alg: 'ES256' }));
const typoDevices = join(dir, 'typo-devices.json');
writeFileSync(typoDevices, JSON.stringify({ readers: [{ driver: 'pcs' }] }));

let roots = 0;
const freshRoot = () => join(dir, `root-${++roots}`);

/** What a person sees: the terminal's output without its cursor controls, CRs dropped. */
function atTerminal(args: string[], answers: string[]): { status: number | null; screen: string } {
  const done = atPty([process.execPath, CLI, 'provision', ...args], answers, 60_000);
  return { status: done.status, screen: done.stdout.replace(/\u001b\[\d*[A-Za-z]/g, '').replaceAll('\r', '') };
}

describe('citygate provision at a terminal', () => {
  it('asks again at its own prompt for every wrong answer, and keeps the right ones', () => {
    const root = freshRoot();
    const answers = [
      'G-30', 'site/with/slashes', 'cq-metro-jiefangbei', '', 'tram', 'bus',
      'http://broker.example', 'mqtt://broker.example:1883', 'mqtts://broker.example:8883',
      join(dir, 'missing-trust.json'), fleetPrivate, trustPath,
      fleetPrivate, fleetPublic,
      typoDevices, 'sim',
    ];
    const { status, screen } = atTerminal(['--root', root, '--user', 'root'], answers);
    expect(status, screen).toBe(0);
    for (const problem of [
      'a site id cannot hold "/"',
      'mode must be one of',
      'a broker URL such as mqtts://broker.example:8883',
      '--allow-plain-broker is for a lab broker only',
      `cannot read trust list ${join(dir, 'missing-trust.json')}: ENOENT`,
      `${fleetPrivate} is a key (JWK, a PRIVATE one that never goes onto a gate), not a trust list`,
      'is a private key: give the fleet-ops PUBLIC key',
      `${typoDevices}: devices.readers[0].driver: "pcs" is not a driver here; allowed: pcsc`,
    ]) {
      expect(screen).toContain(`${problem}`);
    }
    expect(screen.match(/: asked again$/gm)).toHaveLength(8);
    expect(screen).toContain('gate G-30 provisioned');
    const config = loadConfig(join(root, 'etc', 'citygate', 'config.json'), {});
    expect(config.gate).toMatchObject({ gateId: 'G-30', site: 'cq-metro-jiefangbei', mode: 'bus' });
    expect(config.sync?.broker).toBe('mqtts://broker.example:8883');
  });

  it('asks again for a wrong flag instead of failing after the last prompt', () => {
    const root = freshRoot();
    const { status, screen } = atTerminal(
      ['--root', root, '--user', 'root', '--gate-id', 'G-31', '--site', 'S', '--mode', 'bus', '--broker', 'mqtt://broker.example:1883', '--fleet-key', fleetPrivate],
      ['', 'mqtts://broker.example:8883', trustPath, fleetPublic, 'sim'],
    );
    expect(status, screen).toBe(0);
    expect(screen).toContain('--broker mqtt://broker.example:1883: the fleet broker is reached over TLS');
    expect(screen).toContain(`--fleet-key ${fleetPrivate}: ${fleetPrivate} is a private key`);
    expect(loadConfig(join(root, 'etc', 'citygate', 'config.json'), {}).sync?.broker).toBe('mqtts://broker.example:8883');
  });

  it.each([
    ['Ctrl-C', CTRL_C, 130, 'citygate: provision cancelled (Ctrl-C): nothing was written'],
    ['Ctrl-D', CTRL_D, 2, 'citygate: provision cancelled (end of input, Ctrl-D): nothing was written'],
  ])('leaves at %s with one line, its exit status and nothing written', (_name, key, exit, line) => {
    const root = freshRoot();
    const { status, screen } = atTerminal(['--root', root, '--user', 'root'], ['G-32', 'cq-metro-jiefangbei', key]);
    expect(status, screen).toBe(exit);
    expect(screen.trim().split('\n').at(-1)).toBe(line);
    expect(screen).not.toContain('internal error');
    expect(screen).not.toContain('AbortError');
    expect(existsSync(root)).toBe(false);
  });

  it('refuses a provisioned board before the first question', () => {
    const root = freshRoot();
    const flags = ['--root', root, '--user', 'root', '--gate-id', 'G-33', '--site', 'S', '--mode', 'bus', '--broker', 'mqtts://b.example:8883', '--trust', trustPath, '--fleet-key', fleetPublic, '--sim'];
    expect(atTerminal(flags, []).status).toBe(0);
    const { status, screen } = atTerminal(['--root', root, '--user', 'root'], ['G-34']);
    expect(status).toBe(2);
    expect(screen).toContain('already provisioned as gate G-33');
    expect(screen).not.toContain('Gate id');
  });
});

describe('citygate provision without a terminal', () => {
  it('names a devices entry its driver refuses, exit 2, and writes nothing', () => {
    const root = freshRoot();
    const done = spawnSync(
      process.execPath,
      [CLI, 'provision', '--root', root, '--user', 'root', '--gate-id', 'G-35', '--site', 'S', '--mode', 'bus', '--broker', 'mqtts://b.example:8883', '--trust', trustPath, '--fleet-key', fleetPublic, '--devices', typoDevices],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(done.status).toBe(2);
    expect(done.stderr.trim()).toBe(`citygate: --devices: ${typoDevices}: devices.readers[0].driver: "pcs" is not a driver here; allowed: pcsc (got ${JSON.stringify(typoDevices)})`);
    expect(existsSync(root)).toBe(false);
  });
});
