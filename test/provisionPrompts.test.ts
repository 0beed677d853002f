import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { loadConfig } from '../src/app/config.js';

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

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';

/**
 * Runs argv on a real pseudo-terminal and, each time a prompt ("...: ") is
 * shown, types the next line of stdin; a line that is ^C or ^D is sent as
 * that key alone, as a person would press it.
 */
const PTY_DRIVER = String.raw`
import os, pty, re, select, sys
answers = sys.stdin.buffer.read().split(b"\n")
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = pending = b""
while True:
    if not select.select([fd], [], [], 20)[0]: break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk: break
    out += chunk
    pending += chunk
    if answers and re.search(rb": \x1b\[\d+G$", pending):
        pending = b""
        answer = answers.pop(0)
        os.write(fd, answer if answer in (b"\x03", b"\x04") else answer + b"\r")
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

let roots = 0;
const freshRoot = () => join(dir, `root-${++roots}`);

/** What a person sees: the terminal's output without its cursor controls, CRs dropped. */
function atTerminal(args: string[], answers: string[]): { status: number | null; screen: string } {
  const done = spawnSync('python3', ['-c', PTY_DRIVER, process.execPath, CLI, 'provision', ...args], { input: answers.join('\n'), encoding: 'utf8', timeout: 60_000 });
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
