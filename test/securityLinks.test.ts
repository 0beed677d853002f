import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { Journal } from '../src/core/journal.js';
import type { TapDraft } from '../src/core/tap.js';

/*
 * Issue 17, finding 4: root runs provisioning and import in a state directory
 * the service's account owns. A compromised service account plants links there
 * (trust.json -> /etc/shadow, journal.db -> ...) so that root writes or chowns
 * a file for it. Each root-run command is run as root over such links: the file
 * a link points at must stay as it was (contents, owner, mode), and the command
 * either replaces the link with a regular file of its own or refuses, naming it.
 */

const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');
const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'citygate-links-'));
// The service's account must reach its state directory through these.
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The service's account in these tests: `nobody` stands for `citygate`. */
const SERVICE = 'nobody';
const service = isRoot
  ? { uid: Number(execFileSync('id', ['-u', SERVICE], { encoding: 'utf8' }).trim()), gid: Number(execFileSync('id', ['-g', SERVICE], { encoding: 'utf8' }).trim()) }
  : { uid: -1, gid: -1 };

function citygate(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
const openssl = (args: string[]) => spawnSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const trustPath = join(dir, 'trust-in.json');
writeFileSync(trustPath, JSON.stringify(trustListOf([new TestIssuer('cq.yukuaima', 'ES256')])));
const fleetKeyPath = join(dir, 'fleet-public.json');
{
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(fleetKeyPath, JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('base64url'), alg: 'ES256' }));
}

/** Root's own files, which the links point at (as /etc/shadow would be): only root may touch them. */
const secrets = join(dir, 'root-only');
mkdirSync(secrets, { mode: 0o700 });
let targets = 0;
function rootFile(empty = false): { path: string; check: () => void } {
  const path = join(secrets, `secret-${++targets}`);
  const text = empty ? '' : `root:$6$secret-${targets}:20000:0:99999:7:::\n`;
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
  return {
    path,
    check() {
      const stat = lstatSync(path);
      expect(stat.isFile(), path).toBe(true);
      expect(readFileSync(path, 'utf8'), path).toBe(text);
      expect([stat.uid, stat.gid], path).toEqual([0, 0]);
      expect(stat.mode & 0o7777, path).toBe(0o600);
      expect(stat.nlink, path).toBeLessThanOrEqual(2);
    },
  };
}
/** A root directory a link to a directory points at. */
function rootDirectory(): { path: string; check: () => void } {
  const path = join(secrets, `directory-${++targets}`);
  mkdirSync(path, { mode: 0o700 });
  chmodSync(path, 0o700);
  return {
    path,
    check() {
      const stat = lstatSync(path);
      expect(stat.isDirectory(), path).toBe(true);
      expect([stat.uid, stat.gid], path).toEqual([0, 0]);
      expect(stat.mode & 0o7777, path).toBe(0o700);
    },
  };
}

/** What the service's account does: make a link in its own directory, owned by itself. */
function plant(link: string, target: string): void {
  rmSync(link, { force: true });
  symlinkSync(target, link);
  execFileSync('chown', ['-h', `${service.uid}:${service.gid}`, link]);
}

function expectRegular(path: string, mode: number, owner: { uid: number; gid: number }): void {
  const stat = lstatSync(path);
  expect(stat.isSymbolicLink(), `${path} is still a link`).toBe(false);
  expect(stat.isFile(), path).toBe(true);
  expect(stat.mode & 0o7777, `${path} mode`).toBe(mode);
  expect([stat.uid, stat.gid], `${path} owner`).toEqual([owner.uid, owner.gid]);
}

let roots = 0;
function gateRoot() {
  const root = join(dir, `root-${++roots}`);
  const configDir = join(root, 'etc', 'citygate');
  const state = join(root, 'var', 'lib', 'citygate');
  return {
    root,
    configDir,
    state,
    config: join(configDir, 'config.json'),
    key: join(configDir, 'device-key.pem'),
    csr: join(configDir, 'device.csr'),
    trust: join(state, 'trust.json'),
    journal: join(state, 'journal.db'),
    args: (gateId: string, extra: string[] = []) => [
      'provision',
      '--gate-id', gateId,
      '--site', 'cq-metro-jiefangbei',
      '--mode', 'metro-entry',
      '--broker', 'mqtts://broker.example:8883',
      '--trust', trustPath,
      '--fleet-key', fleetKeyPath,
      '--sim',
      '--root', root,
      '--user', SERVICE,
      ...extra,
    ],
  };
}

/** The state directory as systemd (StateDirectory=) or an earlier provisioning left it: the service's. */
function serviceStateDirectory(state: string): void {
  mkdirSync(state, { recursive: true, mode: 0o755 });
  chownSync(state, service.uid, service.gid);
  chmodSync(state, 0o750);
}

describe.skipIf(!isRoot)('root-run provisioning never follows a link the service planted (issue 17, finding 4)', () => {
  it('provision replaces links at trust.json and its old temporary name with the service\'s regular file', () => {
    const g = gateRoot();
    serviceStateDirectory(g.state);
    const trustTarget = rootFile();
    const temporaryTarget = rootFile();
    plant(g.trust, trustTarget.path);
    plant(`${g.trust}.tmp`, temporaryTarget.path);

    const done = citygate(g.args('G-L1'));
    expect(done.status, done.stderr).toBe(0);
    trustTarget.check();
    temporaryTarget.check();
    expectRegular(g.trust, 0o644, service);
    expect(JSON.parse(readFileSync(g.trust, 'utf8')).fleet).toHaveLength(1);
    const state = lstatSync(g.state);
    expect([state.uid, state.gid, state.mode & 0o7777]).toEqual([service.uid, service.gid, 0o750]);
    expectRegular(g.key, 0o600, service);
  });

  it('provision --force does the same over a provisioned gate, and the journal it reads through a link is refused, named', () => {
    const g = gateRoot();
    expect(citygate(g.args('G-L2')).status).toBe(0);
    const trustTarget = rootFile();
    const temporaryTarget = rootFile();
    plant(g.trust, trustTarget.path);
    plant(`${g.trust}.tmp`, temporaryTarget.path);

    const forced = citygate(g.args('G-L2', ['--force']));
    expect(forced.status, forced.stderr).toBe(0);
    trustTarget.check();
    temporaryTarget.check();
    expectRegular(g.trust, 0o644, service);

    for (const name of ['journal.db', 'journal.db-wal', 'journal.db-shm']) {
      const target = rootFile();
      const link = join(g.state, name);
      plant(link, target.path);
      const refused = citygate(g.args('G-L2', ['--force']));
      expect(refused.status, `${name}: ${refused.stderr}`).toBe(2);
      expect(refused.stderr).toContain(link);
      expect(refused.stderr).toContain('symbolic link');
      target.check();
      rmSync(link);
    }
  });

  it('provision refuses a state directory that is a link, naming it, and leaves what it points at alone', () => {
    const g = gateRoot();
    const target = rootDirectory();
    mkdirSync(join(g.root, 'var', 'lib'), { recursive: true });
    plant(g.state, target.path);
    const refused = citygate(g.args('G-L3'));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(g.state);
    expect(refused.stderr).toContain('symbolic link');
    target.check();
  });

  it('provision --force gives every file it rewrites its own mode, whatever the old one had', () => {
    const g = gateRoot();
    expect(citygate(g.args('G-L4')).status).toBe(0);
    for (const path of [g.config, g.key, g.csr, g.trust]) chmodSync(path, 0o666);
    chmodSync(g.state, 0o777);

    const forced = citygate(g.args('G-L4', ['--force']));
    expect(forced.status, forced.stderr).toBe(0);
    expectRegular(g.key, 0o600, service);
    expectRegular(g.csr, 0o644, { uid: 0, gid: 0 });
    expectRegular(g.config, 0o644, { uid: 0, gid: 0 });
    expectRegular(g.trust, 0o644, service);
    expect(statSync(g.state).mode & 0o7777).toBe(0o750);
  });

  it('install-cert replaces links at the certificate, the CA and their temporary names, and writes them 0644', () => {
    const g = gateRoot();
    expect(citygate(g.args('G-L5')).status).toBe(0);
    const caKey = join(dir, 'links-ca.key');
    const caCert = join(dir, 'links-ca.pem');
    expect(openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caCert, '-subj', '/CN=links-ca', '-days', '365']).status).toBe(0);
    const cert = join(dir, 'links-cert.pem');
    expect(openssl(['x509', '-req', '-in', g.csr, '-CA', caCert, '-CAkey', caKey, '-out', cert, '-days', '365']).status).toBe(0);

    // The config directory is root's on a gate; these links stand for any that a wrong owner there would let in.
    const certPath = join(g.configDir, 'device-cert.pem');
    const caPath = join(g.configDir, 'broker-ca.pem');
    const planted = [certPath, `${certPath}.tmp`, `${caPath}.tmp`, `${g.config}.tmp`, `${g.config}.new.tmp`].map((link) => {
      const target = rootFile();
      plant(link, target.path);
      return target;
    });
    writeFileSync(caPath, 'old CA\n');
    chmodSync(caPath, 0o666);

    const installed = citygate(['provision', 'install-cert', '--config', g.config, '--cert', cert, '--ca', caCert]);
    expect(installed.status, installed.stderr).toBe(0);
    for (const target of planted) target.check();
    expectRegular(certPath, 0o644, { uid: 0, gid: 0 });
    expectRegular(caPath, 0o644, { uid: 0, gid: 0 });
    expectRegular(g.config, 0o644, { uid: 0, gid: 0 });
    expect(readFileSync(certPath, 'utf8')).toBe(readFileSync(cert, 'utf8'));
    expect(readFileSync(caPath, 'utf8')).toBe(readFileSync(caCert, 'utf8'));
  });
});

describe.skipIf(!isRoot)('root-run journal import never follows a link the service planted (issue 17, finding 4)', () => {
  let units = 0;
  function unit(gateId: string) {
    const home = join(dir, `unit-${++units}`);
    mkdirSync(home, { mode: 0o755 });
    chmodSync(home, 0o755);
    const state = join(home, 'state');
    serviceStateDirectory(state);
    const config = join(home, 'config.json');
    writeFileSync(config, JSON.stringify({ gate: { id: gateId, site: 'cq-metro-jiefangbei', mode: 'metro-entry' }, paths: { state, trust: join(home, 'trust.json') } }));
    return { config, state, journal: join(state, 'journal.db') };
  }

  function draft(i: number): TapDraft {
    return {
      at: new Date(Date.UTC(2026, 10, 23, 8, 0, i)).toISOString(),
      mode: 'metro-entry',
      kind: 'code',
      issuer: 'cq.yukuaima',
      subject: `acct-${i}`,
      category: 'adult',
      result: 'accepted',
      reason: 'ok',
      fare: 200,
      product: null,
      latencyMs: 1,
      place: null,
    };
  }

  /** The undelivered taps of a failed unit of `gateId`, exported as import reads them. */
  function exportOf(gateId: string): string {
    const home = join(dir, `failed-${++units}`);
    mkdirSync(home);
    const journal = Journal.open(join(home, 'journal.db'), gateId, 'cq-metro-jiefangbei');
    for (let i = 1; i <= 5; i++) journal.append(draft(i));
    journal.markDelivered(2);
    journal.close();
    const out = join(dir, `export-${units}.jsonl`);
    const exported = citygate(['journal', 'export', '--journal', join(home, 'journal.db'), '--undelivered', '--format', 'json', '--out', out]);
    expect(exported.status, exported.stderr).toBe(0);
    return out;
  }

  const importInto = (target: { config: string }, file: string) => citygate(['journal', 'import', '--config', target.config, '--from', file]);

  it('makes the journal as the service, owned by it', () => {
    const target = unit('G-L10');
    const done = importInto(target, exportOf('G-L10'));
    expect(done.status, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ added: 3, backlog: 3 });
    const stat = lstatSync(target.journal);
    expect([stat.uid, stat.gid]).toEqual([service.uid, service.gid]);
  });

  it('refuses a journal, WAL or shared-memory file that is a link, naming it, and leaves what it points at alone', () => {
    const file = exportOf('G-L11');
    for (const name of ['journal.db', 'journal.db-wal', 'journal.db-shm']) {
      const target = unit('G-L11');
      if (name !== 'journal.db') {
        const made = importInto(target, file);
        expect(made.status, made.stderr).toBe(0);
      }
      const secret = rootFile();
      const link = join(target.state, name);
      plant(link, secret.path);
      const refused = importInto(target, file);
      expect(refused.status, `${name}: ${refused.stderr}`).toBe(2);
      expect(refused.stderr).toContain(link);
      expect(refused.stderr).toContain('symbolic link');
      secret.check();
    }
  });

  it('refuses a link to a journal not made yet, and makes nothing where it points', () => {
    const target = unit('G-L12');
    const nowhere = join(secrets, 'made-by-root.db');
    plant(target.journal, nowhere);
    const refused = importInto(target, exportOf('G-L12'));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(target.journal);
    expect(existsSync(nowhere)).toBe(false);
    expect(existsSync(`${nowhere}-wal`)).toBe(false);
  });

  it('works with the service\'s rights only: a root file linked in past any check is neither read, written nor given away', () => {
    // A hard link stands for a link swapped in after a check (a race): the import
    // itself must be unable to touch what it leads to.
    // An empty root file (as SQLite would take for a new database) is the worst case.
    const target = unit('G-L13');
    const secret = rootFile(true);
    linkSync(secret.path, target.journal);
    const refused = importInto(target, exportOf('G-L13'));
    expect(refused.status, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(target.journal);
    secret.check();
  });
});
