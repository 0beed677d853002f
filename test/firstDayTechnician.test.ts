import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { createServiceAccount, type ServiceAccount } from './support/serviceAccount.js';
import { waitFor } from './support/waitFor.js';

/*
 * The field-ops walk-through as a technician does it on a board: provision
 * and every check with sudo (root), the gate itself as its own service
 * account, as systemd runs it (User=citygate). Whatever root's tools make in
 * the state directory must be the service's, or the gate cannot start.
 */

const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'dist', 'bin', 'citygate.js');
const asRoot = process.getuid?.() === 0;

/** The program both root and the service account run, as /opt/citygate on a gate (see programFor). */
let programCli = CLI;

function citygate(args: string[]) {
  const run = spawnSync(process.execPath, [programCli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Every file under `dir` (the state directory and its deny-list store) not owned by `uid`, with its owner. */
function notOwnedBy(dir: string, uid: number): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.uid !== uid) found.push(`${path} (uid ${stat.uid})`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

/**
 * The program as the service account can reach it. A clone in a directory
 * only root may enter (/root) is shown to it through a bind mount, as
 * /opt/citygate is readable by the service on a gate.
 */
function programFor(account: ServiceAccount): { cli: string; release(): void } {
  const reach = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(CLI)})`], { uid: account.uid, gid: account.gid });
  if (reach.status === 0) return { cli: CLI, release: () => undefined };
  // Its own directory, never under one removed recursively: the repository is behind it while mounted.
  const mounted = mkdtempSync(join(tmpdir(), 'citygate-program-'));
  chmodSync(mounted, 0o755);
  execFileSync('mount', ['--bind', '-o', 'ro', REPO, mounted]);
  return {
    cli: join(mounted, 'dist', 'bin', 'citygate.js'),
    release: () => {
      execFileSync('umount', ['--lazy', mounted]);
      rmdirSync(mounted);
    },
  };
}

/** The gate as its service account runs it; the simulated scan module reads codes from its stdin. */
class ServiceGate {
  readonly child: ChildProcessWithoutNullStreams;
  out = '';
  err = '';
  exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  constructor(cli: string, config: string, account: ServiceAccount) {
    this.child = spawn(process.execPath, [cli, 'run', '--config', config], { uid: account.uid, gid: account.gid, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => (this.out += chunk.toString()));
    this.child.stderr.on('data', (chunk: Buffer) => (this.err += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve((this.exitCode = code))));
  }

  async readyOrGone(): Promise<boolean> {
    await waitFor(() => this.out.includes('"msg":"gate ready"') || this.exitCode !== undefined, `the gate ready or gone (${this.out}${this.err})`, 30_000);
    return this.exitCode === undefined;
  }

  async stop(): Promise<number | null> {
    if (this.exitCode === undefined) this.child.kill('SIGTERM');
    return this.exited;
  }
}

describe.skipIf(!asRoot)('the first day: root-run tools and a gate running as its own account', () => {
  let dir: string;
  let account: ServiceAccount;
  let program: { cli: string; release(): void } | undefined;
  let issuer: TestIssuer;
  const gates: ServiceGate[] = [];
  const root = () => join(dir, 'root');
  const config = () => join(root(), 'etc', 'citygate', 'config.json');
  const state = () => join(root(), 'var', 'lib', 'citygate');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'citygate-firstday-'));
    // The service account must reach the config under it, as it reaches /etc/citygate.
    chmodSync(dir, 0o755);
    account = createServiceAccount();
    program = programFor(account);
    programCli = program.cli;
    issuer = new TestIssuer('cq.yukuaima', 'ES256');
    writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer])));
    const fleet = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    writeFileSync(join(dir, 'fleet-public.json'), JSON.stringify({ ...fleet, kid: randomBytes(8).toString('base64url'), alg: 'ES256' }));
  });

  afterEach(async () => {
    for (const gate of gates.splice(0)) await gate.stop();
  });

  afterAll(() => {
    program?.release();
    account?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  function startGate(): ServiceGate {
    const gate = new ServiceGate(programCli, config(), account);
    gates.push(gate);
    return gate;
  }

  it('provisions and checks with sudo, leaving nothing root\'s in the state directory, and the gate starts and journals as its account', async () => {
    const provision = citygate([
      'provision', '--gate-id', 'FIRST-1', '--site', 'cq-metro-jiefangbei', '--mode', 'metro-entry',
      '--broker', 'mqtts://127.0.0.1:9', '--trust', join(dir, 'trust.json'), '--fleet-key', join(dir, 'fleet-public.json'),
      '--sim', '--root', root(), '--user', account.name,
    ]);
    expect(provision.status, provision.stderr).toBe(0);
    const written = JSON.parse(readFileSync(config(), 'utf8')) as Record<string, unknown>;
    // Other gates and tests on this machine: this one takes any free metrics port.
    writeFileSync(config(), JSON.stringify({ ...written, metrics: { port: 0 } }));

    // Before the first start: selftest (no certificate, no broker: it fails) and status.
    const selftest = citygate(['selftest', '--config', config(), '--json']);
    expect(selftest.status, selftest.stderr).toBe(1);
    expect(citygate(['status', '--config', config()]).status).toBe(1);
    expect(notOwnedBy(state(), account.uid)).toEqual([]);
    const checks = JSON.parse(selftest.stdout) as { name: string; result: string; detail: string }[];
    expect(checks.find((c) => c.name === 'journal')).toMatchObject({ result: 'pass', detail: expect.stringContaining('none yet') });
    expect(checks.find((c) => c.name === 'state files')?.result).toBe('pass');
    expect(existsSync(join(state(), 'journal.db'))).toBe(false);

    const first = startGate();
    expect(await first.readyOrGone(), first.err).toBe(true);
    first.child.stdin.write(`${issuer.issuerCode({ sub: 'first-rider', iat: Math.floor(Date.now() / 1000) })}\n`);
    await waitFor(() => first.out.includes('"subject":"first-rider"'), `the tap journaled (${first.out})`, 30_000);
    expect(await first.stop()).toBe(0);

    // After it ran: root's tools open its journal (and make its WAL files) as the service.
    const again = JSON.parse(citygate(['selftest', '--config', config(), '--json']).stdout) as { name: string; result: string }[];
    expect(again.find((c) => c.name === 'journal')?.result).toBe('pass');
    const exported = citygate(['journal', 'export', '--config', config()]);
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('"subject":"first-rider"');
    const status = JSON.parse(citygate(['status', '--config', config(), '--json']).stdout) as { journal: { lastSeq: number } };
    expect(status.journal.lastSeq).toBe(1);
    expect(notOwnedBy(state(), account.uid)).toEqual([]);
  });

  it('names a journal root owns, and the command that mends it, in run, status and selftest', async () => {
    const journal = join(state(), 'journal.db');
    chownSync(journal, 0, 0);
    try {
      const gate = startGate();
      expect(await gate.readyOrGone()).toBe(false);
      expect(await gate.exited).toBe(2);
      expect(gate.err).not.toContain('internal error');
      expect(gate.err.trim().split('\n')).toHaveLength(1);
      expect(gate.err).toContain(`journal ${journal} is read-only for user ${account.name} (owned by root`);
      expect(gate.err).toContain(`sudo chown -R ${account.name}: ${state()}`);

      const status = citygate(['status', '--config', config()]);
      expect(status.status).toBe(1);
      expect(status.stdout).toContain(`${journal} (root's)`);
      expect(status.stdout).toContain(`sudo chown -R ${account.name}: ${state()}`);
      const checks = JSON.parse(citygate(['selftest', '--config', config(), '--json']).stdout) as { name: string; result: string; detail: string }[];
      expect(checks.find((c) => c.name === 'state files')).toMatchObject({ result: 'fail', detail: expect.stringContaining(journal) });
    } finally {
      chownSync(journal, account.uid, account.gid);
    }
  });

  it('writes the metrics port into the config, and refuses to start a second gate on a port in use, naming the port and metrics.port, without a stack trace', async () => {
    const provisioned = citygate([
      'provision', '--gate-id', 'SECOND-1', '--site', 'S', '--mode', 'bus', '--broker', 'mqtts://127.0.0.1:9',
      '--trust', join(dir, 'trust.json'), '--fleet-key', join(dir, 'fleet-public.json'), '--sim', '--root', join(dir, 'second'), '--user', account.name,
    ]);
    expect(provisioned.status, provisioned.stderr).toBe(0);
    expect((JSON.parse(readFileSync(join(dir, 'second', 'etc', 'citygate', 'config.json'), 'utf8')) as { metrics: unknown }).metrics).toEqual({ host: '127.0.0.1', port: 9464 });

    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const document = JSON.parse(readFileSync(config(), 'utf8')) as Record<string, unknown>;
      writeFileSync(config(), JSON.stringify({ ...document, metrics: { port } }));
      const metrics = (JSON.parse(citygate(['selftest', '--config', config(), '--json']).stdout) as { name: string; result: string; detail: string }[]).find((c) => c.name === 'metrics');
      expect(metrics).toMatchObject({ result: 'fail', detail: expect.stringContaining(`127.0.0.1:${port} is in use`) });
      const gate = startGate();
      expect(await gate.readyOrGone()).toBe(false);
      expect(await gate.exited).toBe(2);
      expect(gate.err.trim()).toBe(`citygate: ${config()}: metrics.port: 127.0.0.1:${port} is in use by another gate or program on this host: set another metrics.port in the config (0 takes any free port)`);
      writeFileSync(config(), JSON.stringify({ ...document, metrics: { port: 0 } }));
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
