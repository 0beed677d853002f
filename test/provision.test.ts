import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UNIONPAY_TEST_CAPK } from '../sim/emv/publishedTestCard.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { loadConfig } from '../src/app/config.js';
import { DenyListStore } from '../src/core/denylist/denyListStore.js';
import { Journal } from '../src/core/journal.js';
import { atPty } from './support/ptyDriver.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');
const dir = mkdtempSync(join(tmpdir(), 'citygate-provision-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
const citygate = (args: string[]) => run(process.execPath, [CLI, ...args]);
const openssl = (args: string[]) => run('openssl', args);

const trustPath = join(dir, 'trust.json');
writeFileSync(trustPath, JSON.stringify(trustListOf([new TestIssuer('cq.yukuaima', 'ES256')])));

function fleetJwk() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomBytes(8).toString('base64url');
  return { publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256' }, privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256' } };
}
const fleet = fleetJwk();
const fleetKeyPath = join(dir, 'fleet-public.json');
writeFileSync(fleetKeyPath, JSON.stringify(fleet.publicJwk));

let roots = 0;
function freshRoot(): string {
  return join(dir, `root-${++roots}`);
}

function provisionArgs(root: string, gateId: string, extra: string[] = []): string[] {
  return [
    'provision',
    '--gate-id', gateId,
    '--site', 'cq-metro-jiefangbei',
    '--mode', 'metro-entry',
    '--broker', 'mqtts://broker.example:8883',
    '--trust', trustPath,
    '--fleet-key', fleetKeyPath,
    '--sim',
    '--root', root,
    '--user', 'root',
    ...extra,
  ];
}

const paths = (root: string) => {
  const config = join(root, 'etc', 'citygate');
  const state = join(root, 'var', 'lib', 'citygate');
  return { configDir: config, state, config: join(config, 'config.json'), key: join(config, 'device-key.pem'), csr: join(config, 'device.csr'), trust: join(state, 'trust.json') };
};

/** A CA made with openssl, as fleet ops would have, signing a request into a client certificate. */
function makeCa(name: string) {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const made = openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '365']);
  expect(made.status, made.stderr).toBe(0);
  return {
    cert,
    sign(csr: string, out: string) {
      const signed = openssl(['x509', '-req', '-in', csr, '-CA', cert, '-CAkey', key, '-out', out, '-days', '365']);
      expect(signed.status, signed.stderr).toBe(0);
      return out;
    },
  };
}

describe('citygate provision', () => {
  it('writes a config that loads, a 0600 device key, a CSR for the gate id, the state directory and the trust list with the fleet key', () => {
    const root = freshRoot();
    const p = paths(root);
    const done = citygate(provisionArgs(root, 'G-17'));
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toContain(p.csr);

    expect(statSync(p.key).mode & 0o777).toBe(0o600);
    expect(statSync(p.state).isDirectory()).toBe(true);
    expect(statSync(p.state).mode & 0o777).toBe(0o750);

    expect(openssl(['req', '-in', p.csr, '-noout', '-verify']).status).toBe(0);
    expect(openssl(['req', '-in', p.csr, '-noout', '-subject', '-nameopt', 'utf8,sname']).stdout.trim()).toBe('subject=CN=G-17');
    const csrKey = openssl(['req', '-in', p.csr, '-noout', '-pubkey']).stdout;
    expect(createPublicKey(csrKey).export({ format: 'jwk' })).toEqual(createPublicKey(readFileSync(p.key, 'utf8')).export({ format: 'jwk' }));

    const config = loadConfig(p.config, {});
    expect(config.gate).toMatchObject({ gateId: 'G-17', site: 'cq-metro-jiefangbei', mode: 'metro-entry' });
    expect(config.paths).toEqual({ state: p.state, trust: p.trust });
    expect(config.sync?.broker).toBe('mqtts://broker.example:8883');
    expect(config.sync?.tls).toEqual({ key: p.key });
    expect(config.devices.barrier.driver).toBe('sim');

    const trust = JSON.parse(readFileSync(p.trust, 'utf8')) as { issuers: { id: string }[]; fleet: { kid: string; d?: string }[] };
    expect(trust.issuers.map((i) => i.id)).toEqual(['cq.yukuaima']);
    expect(trust.fleet).toEqual([fleet.publicJwk]);
  });

  it('installs the CA public keys and the card token key for bank cards, and the gate takes them', () => {
    const capk = join(dir, 'capk.json');
    writeFileSync(capk, JSON.stringify([UNIONPAY_TEST_CAPK]));
    const tokenKey = join(dir, 'token.key');
    writeFileSync(tokenKey, `${'5a'.repeat(32)}\n`);
    const root = freshRoot();
    const p = paths(root);
    const done = citygate(provisionArgs(root, 'G-BANK', ['--capk', capk, '--token-key', tokenKey]));
    expect(done.status, done.stderr).toBe(0);
    const config = loadConfig(p.config, {});
    expect(config.paths).toEqual({ state: p.state, trust: p.trust, capk: join(p.configDir, 'capk.json'), tokenKey: join(p.configDir, 'card-token.key') });
    expect(config.gate.cards?.applications).toEqual(['qpboc', 'cg', 'uid']);
    expect(JSON.parse(readFileSync(config.paths.capk!, 'utf8'))).toEqual([UNIONPAY_TEST_CAPK]);
    expect(statSync(config.paths.tokenKey!).mode & 0o777).toBe(0o600);

    const alone = citygate(provisionArgs(freshRoot(), 'G-BANK2', ['--capk', capk]));
    expect(alone.status).toBe(2);
    expect(alone.stderr).toContain('--token-key');
    writeFileSync(capk, JSON.stringify([{ ...UNIONPAY_TEST_CAPK, checksum: '00'.repeat(20) }]));
    const bad = citygate(provisionArgs(freshRoot(), 'G-BANK3', ['--capk', capk, '--token-key', tokenKey]));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${capk}: [0].checksum`);
  });

  it('puts a gate id with characters openssl treats specially into the CN unchanged', () => {
    const root = freshRoot();
    const gateId = '闸机 7\\a=b';
    const done = citygate(provisionArgs(root, gateId));
    expect(done.status, done.stderr).toBe(0);
    expect(openssl(['req', '-in', paths(root).csr, '-noout', '-subject', '-nameopt', 'utf8,-esc_msb,sname']).stdout.trim()).toBe(`subject=CN=${gateId}`);
    expect(loadConfig(paths(root).config, {}).gate.gateId).toBe(gateId);
  });

  it('refuses to provision a provisioned gate again without --force, and does with it', () => {
    const root = freshRoot();
    const p = paths(root);
    expect(citygate(provisionArgs(root, 'G-2')).status).toBe(0);
    const key = readFileSync(p.key, 'utf8');

    const again = citygate(provisionArgs(root, 'G-3'));
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('already provisioned as gate G-2');
    expect(again.stderr).toContain('--force');
    expect(readFileSync(p.key, 'utf8')).toBe(key);
    expect(loadConfig(p.config, {}).gate.gateId).toBe('G-2');

    const forced = citygate(provisionArgs(root, 'G-2', ['--force']));
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(p.key, 'utf8')).not.toBe(key);
    expect(statSync(p.key).mode & 0o777).toBe(0o600);
  });

  it('refuses --force under another gate id while the journal holds the old gate\'s taps', () => {
    const root = freshRoot();
    const p = paths(root);
    expect(citygate(provisionArgs(root, 'G-4')).status).toBe(0);
    Journal.open(join(p.state, 'journal.db'), 'G-4', 'S').close();
    const forced = citygate(provisionArgs(root, 'G-5', ['--force']));
    expect(forced.status).toBe(2);
    expect(forced.stderr).toContain('belongs to gate G-4');
    expect(forced.stderr).toContain('journal export');
    expect(loadConfig(p.config, {}).gate.gateId).toBe('G-4');
  });

  it('without a terminal, names every missing flag and writes nothing', () => {
    const root = freshRoot();
    const done = citygate(['provision', '--gate-id', 'G-6', '--root', root]);
    expect(done.status).toBe(2);
    for (const flag of ['--site', '--mode', '--broker', '--trust', '--fleet-key', '--devices']) expect(done.stderr).toContain(flag);
    expect(existsSync(root)).toBe(false);
  });

  it('asks at a terminal for what the flags left out, asks again after a wrong answer, and provisions', () => {
    const root = freshRoot();
    const answers = ['G-20', 'cq-metro-jiefangbei', '', 'tram', 'bus', 'mqtts://broker.example:8883', trustPath, fleetKeyPath, 'sim'];
    const done = atPty([process.execPath, CLI, 'provision', '--root', root, '--user', 'root'], answers, 30_000);
    expect(done.status, done.stdout).toBe(0);
    expect(done.stdout).toContain('Gate id');
    expect(done.stdout).toContain('mode must be one of');
    expect(done.stdout).toContain('gate G-20 provisioned');
    const config = loadConfig(paths(root).config, {});
    expect(config.gate).toMatchObject({ gateId: 'G-20', site: 'cq-metro-jiefangbei', zone: undefined, mode: 'bus' });
  });

  it('refuses bad input before writing anything: private fleet key, plain broker, gate id with a topic separator, unknown mode', () => {
    const privatePath = join(dir, 'fleet-private.json');
    writeFileSync(privatePath, JSON.stringify(fleet.privateJwk));
    const cases: [string[], string][] = [
      [['--fleet-key', privatePath], 'PUBLIC key'],
      [['--broker', 'mqtt://broker.example:1883'], '--allow-plain-broker'],
      [['--gate-id', 'a/b'], 'MQTT topic level'],
      [['--mode', 'tram'], 'mode must be one of'],
    ];
    for (const [override, message] of cases) {
      const root = freshRoot();
      const args = provisionArgs(root, 'G-7');
      for (let i = 0; i < override.length; i += 2) args[args.indexOf(override[i]!) + 1] = override[i + 1]!;
      const done = citygate(args);
      expect(done.status, override.join(' ')).toBe(2);
      expect(done.stderr).toContain(message);
      expect(existsSync(paths(root).config)).toBe(false);
    }
  });

  it('install-cert installs a certificate signed from the gate\'s CSR and refuses one for another key', () => {
    const root = freshRoot();
    const p = paths(root);
    expect(citygate(provisionArgs(root, 'G-8')).status).toBe(0);
    const ca = makeCa('fleet-ca');
    const good = ca.sign(p.csr, join(dir, 'g8-cert.pem'));

    // A request from another key, even with the right CN, must not be installed.
    const otherKey = join(dir, 'other-key.pem');
    const otherCsr = join(dir, 'other.csr');
    expect(openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', otherKey, '-subj', '/CN=G-8', '-out', otherCsr]).status).toBe(0);
    const wrong = ca.sign(otherCsr, join(dir, 'other-cert.pem'));
    const refused = citygate(['provision', 'install-cert', '--config', p.config, '--cert', wrong, '--ca', ca.cert]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('another key');
    expect(loadConfig(p.config, {}).sync?.tls?.cert).toBeUndefined();
    expect(existsSync(join(p.configDir, 'device-cert.pem'))).toBe(false);

    const installed = citygate(['provision', 'install-cert', '--config', p.config, '--cert', good, '--ca', ca.cert]);
    expect(installed.status, installed.stderr).toBe(0);
    const tls = loadConfig(p.config, {}).sync?.tls;
    expect(tls).toEqual({ key: p.key, cert: join(p.configDir, 'device-cert.pem'), ca: join(p.configDir, 'broker-ca.pem') });
    expect(readFileSync(tls!.cert!, 'utf8')).toBe(readFileSync(good, 'utf8'));
    expect(readFileSync(tls!.ca!, 'utf8')).toBe(readFileSync(ca.cert, 'utf8'));

    const status = citygate(['status', '--config', p.config, '--json']);
    expect(status.status, status.stdout).toBe(0);
    const report = JSON.parse(status.stdout) as { certificate: { subject: string; matchesKey: boolean }; problems: string[] };
    expect(report.certificate).toMatchObject({ subject: 'CN=G-8', matchesKey: true });
    expect(report.problems).toEqual([]);
  });

  it('install-cert refuses a certificate for the device key that names another gate', () => {
    const root = freshRoot();
    const p = paths(root);
    expect(citygate(provisionArgs(root, 'G-9')).status).toBe(0);
    const caKey = join(dir, 'ca9.key');
    const caCert = join(dir, 'ca9.pem');
    expect(openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caCert, '-subj', '/CN=ca9', '-days', '30']).status).toBe(0);
    const renamed = join(dir, 'g9-renamed.pem');
    expect(openssl(['x509', '-req', '-in', p.csr, '-CA', caCert, '-CAkey', caKey, '-out', renamed, '-days', '30', '-subj', '/CN=G-10']).status).toBe(0);
    const refused = citygate(['provision', 'install-cert', '--config', p.config, '--cert', renamed]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('not CN=G-9');
  });

  it('status reports a provisioned gate without a certificate as a problem, exit 1', () => {
    const root = freshRoot();
    expect(citygate(provisionArgs(root, 'G-11')).status).toBe(0);
    const status = citygate(['status', '--config', paths(root).config]);
    expect(status.status).toBe(1);
    expect(status.stdout).toMatch(/^gate\s+G-11$/m);
    expect(status.stdout).toContain('certificate: none installed');
  });

  it('status reads the journal, the deny lists and the trust list from the files', () => {
    const root = freshRoot();
    const p = paths(root);
    expect(citygate(provisionArgs(root, 'G-12')).status).toBe(0);
    const journal = Journal.open(join(p.state, 'journal.db'), 'G-12', 'cq-metro-jiefangbei');
    for (let i = 0; i < 5; i++) {
      journal.append({ at: `2026-11-23T08:00:0${i}.000Z`, mode: 'metro-entry', kind: 'code', issuer: 'cq.yukuaima', subject: `a-${i}`, category: 'adult', result: 'accepted', reason: 'ok', fare: 200, product: null, latencyMs: 1 });
    }
    journal.markDelivered(3);
    journal.close();
    const store = DenyListStore.open(join(p.state, 'denylist'));
    expect(store.apply({ issuer: 'cq.yukuaima', seq: 4, base: 0, add: ['a-9'], remove: [], issuedAt: 1 }).status).toBe('applied');
    store.close();

    const status = citygate(['status', '--config', p.config, '--json']);
    const report = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(report.gate).toEqual({ id: 'G-12', site: 'cq-metro-jiefangbei', mode: 'metro-entry' });
    expect(report.journal).toMatchObject({ lastSeq: 5, lastTapAt: '2026-11-23T08:00:04.000Z', deliveredSeq: 3, backlog: 2 });
    expect(report.denyList).toEqual({ seqs: { 'cq.yukuaima': 4 } });
    expect((report.disk as { freeBytes: number }).freeBytes).toBeGreaterThan(0);
    expect(report.trust).toMatchObject({ issuers: [{ id: 'cq.yukuaima', keys: [{ state: 'in force' }] }], fleet: [{ kid: fleet.publicJwk.kid, state: 'in force' }] });

    const table = citygate(['status', '--config', p.config]).stdout;
    expect(table).toMatch(/^backlog\s+2$/m);
    expect(table).toMatch(/^deny list cq\.yukuaima\s+seq 4$/m);
  });

  it('status names the config field that is wrong, exit 2', () => {
    const root = freshRoot();
    const p = paths(root);
    expect(citygate(provisionArgs(root, 'G-13')).status).toBe(0);
    const document = JSON.parse(readFileSync(p.config, 'utf8')) as { gate: { mode: string } };
    document.gate.mode = 'tram';
    writeFileSync(p.config, JSON.stringify(document));
    const status = citygate(['status', '--config', p.config]);
    expect(status.status).toBe(2);
    expect(status.stderr).toContain('gate.mode');
    expect(status.stderr).toContain('"tram"');
  });
});
