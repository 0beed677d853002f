import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNIONPAY_TEST_CAPK } from '../sim/emv/publishedTestCard.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { Mosquitto } from './support/mosquitto.js';
import { waitFor } from './support/waitFor.js';

/*
 * A technician's day, from the README alone: provision a blank board from
 * flags, send the CSR to fleet ops, install the certificate they sign, check
 * the gate with selftest, and start it. The broker is a real mosquitto that
 * admits only clients with a certificate from the fleet's CA, as in the field.
 */

const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');
const GATE = 'FIELD-7';

function run(command: string, args: string[]) {
  return spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

interface Check {
  name: string;
  result: string;
  detail: string;
}

describe('provision, install-cert, selftest and run on the simulated lane with a TLS broker', () => {
  let dir: string;
  let broker: Mosquitto;
  const root = () => join(dir, 'root');
  const configPath = () => join(root(), 'etc', 'citygate', 'config.json');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'citygate-field-'));
    const openssl = (args: string[]) => {
      const done = run('openssl', args);
      expect(done.status, done.stderr).toBe(0);
    };
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-subj', '/CN=fleet-ca', '-days', '365']);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'broker.key'), '-out', join(dir, 'broker.csr'), '-subj', '/CN=127.0.0.1']);
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl(['x509', '-req', '-in', join(dir, 'broker.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-out', join(dir, 'broker.pem'), '-days', '365', '-extfile', join(dir, 'san.ext')]);
    broker = await Mosquitto.start({ tls: { ca: join(dir, 'ca.pem'), cert: join(dir, 'broker.pem'), key: join(dir, 'broker.key') } });

    const issuer = new TestIssuer('cq.yukuaima', 'ES256');
    writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer])));
    const fleet = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    writeFileSync(join(dir, 'fleet-public.json'), JSON.stringify({ kid: randomBytes(8).toString('base64url'), alg: 'ES256', kty: 'EC', crv: 'P-256', x: fleet.x, y: fleet.y }));
    writeFileSync(join(dir, 'capk.json'), JSON.stringify([UNIONPAY_TEST_CAPK]));
    writeFileSync(join(dir, 'card-token.key'), `${randomBytes(32).toString('hex')}\n`);
  });

  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('provisions from flags, takes the signed certificate, passes selftest, serves, and refuses a selftest while it serves', async () => {
    const provision = run(process.execPath, [
      CLI, 'provision', '--gate-id', GATE, '--site', 'cq-metro-jiefangbei', '--mode', 'metro-entry',
      '--broker', broker.url, '--trust', join(dir, 'trust.json'), '--fleet-key', join(dir, 'fleet-public.json'),
      '--capk', join(dir, 'capk.json'), '--token-key', join(dir, 'card-token.key'),
      '--sim', '--root', root(), '--user', 'root',
    ]);
    expect(provision.status, provision.stderr).toBe(0);
    const csr = join(root(), 'etc', 'citygate', 'device.csr');
    const again = run(process.execPath, [CLI, 'provision', '--gate-id', GATE, '--site', 'x', '--mode', 'bus', '--broker', broker.url, '--trust', join(dir, 'trust.json'), '--fleet-key', join(dir, 'fleet-public.json'), '--sim', '--root', root(), '--user', 'root']);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('--force');

    // Fleet ops sign the request with their CA.
    const signed = run('openssl', ['x509', '-req', '-in', csr, '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-out', join(dir, 'device.pem'), '-days', '365']);
    expect(signed.status, signed.stderr).toBe(0);
    const install = run(process.execPath, [CLI, 'provision', 'install-cert', '--config', configPath(), '--cert', join(dir, 'device.pem'), '--ca', join(dir, 'ca.pem')]);
    expect(install.status, install.stderr).toBe(0);
    // Two gates' metrics on one test machine: this one takes any free port.
    const config = JSON.parse(readFileSync(configPath(), 'utf8')) as Record<string, unknown>;
    writeFileSync(configPath(), JSON.stringify({ ...config, metrics: { port: 0 } }));

    const selftest = run(process.execPath, [CLI, 'selftest', '--config', configPath(), '--click', '--json']);
    expect(selftest.status, `${selftest.stdout}\n${selftest.stderr}`).toBe(0);
    const checks = JSON.parse(selftest.stdout) as Check[];
    const byName = new Map(checks.map((c) => [c.name, c]));
    for (const name of ['disk', 'trust list', 'bank cards', 'certificate', 'service', 'journal', 'clock', 'scanner:0', 'display', 'barrier', 'indicators', 'passage', 'broker']) {
      expect(byName.get(name)?.result, `${name}: ${JSON.stringify(byName.get(name))}`).toBe('pass');
    }
    expect(byName.get('broker')!.detail).toContain('with the device certificate');
    expect(byName.get('certificate')!.detail).toContain(`CN=${GATE}`);
    expect(byName.get('bank cards')!.detail).toContain('1 CA public key in');

    const daemon = spawn(process.execPath, [CLI, 'run', '--config', configPath()], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    daemon.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await waitFor(() => out.includes('"msg":"connected to the broker"'), `connected over TLS with the device certificate (${out})`);
      const busy = run(process.execPath, [CLI, 'selftest', '--config', configPath(), '--json']);
      expect(busy.status).toBe(1);
      const service = (JSON.parse(busy.stdout) as Check[]).find((c) => c.name === 'service')!;
      expect(service.result).toBe('fail');
      expect(service.detail).toContain('systemctl stop citygate');
    } finally {
      daemon.kill('SIGTERM');
      expect(await new Promise((resolve) => daemon.once('exit', resolve))).toBe(0);
    }
  });

  it('passes selftest with a warning, not a failure, when the certificate ends within 30 days', () => {
    const csr = join(root(), 'etc', 'citygate', 'device.csr');
    const signed = run('openssl', ['x509', '-req', '-in', csr, '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-out', join(dir, 'device-10d.pem'), '-days', '10']);
    expect(signed.status, signed.stderr).toBe(0);
    const install = run(process.execPath, [CLI, 'provision', 'install-cert', '--config', configPath(), '--cert', join(dir, 'device-10d.pem')]);
    expect(install.status, install.stderr).toBe(0);
    const selftest = run(process.execPath, [CLI, 'selftest', '--config', configPath()]);
    expect(selftest.status, selftest.stdout).toBe(0);
    expect(selftest.stdout).toMatch(/^WARN {2}certificate +certificate: expires on .*: have it renewed \(warned within 30 days of its end\)$/m);
    expect(selftest.stdout).toMatch(/^PASS {2}broker /m);
    expect(selftest.stdout.trim().split('\n').at(-1)).toBe('selftest passed with 1 warning(s)');
  });

  it('fails selftest, naming the broker, when the certificate is not one the broker admits', () => {
    const config = JSON.parse(readFileSync(configPath(), 'utf8')) as { sync: { tls: Record<string, string> } };
    const { cert: _cert, key: _key, ...caOnly } = config.sync.tls;
    writeFileSync(configPath(), JSON.stringify({ ...config, sync: { ...config.sync, tls: caOnly } }));
    const selftest = run(process.execPath, [CLI, 'selftest', '--config', configPath(), '--json']);
    expect(selftest.status).toBe(1);
    const broker = (JSON.parse(selftest.stdout) as Check[]).find((c) => c.name === 'broker')!;
    expect(broker.result).toBe('fail');
    expect(broker.detail).toContain('127.0.0.1');
    // In words, as the gate's own log says it, not OpenSSL's text.
    expect(broker.detail).toMatch(/client certificate/);
    expect(broker.detail).not.toMatch(/ssl3_|\.\.\/deps|alert number/i);
  });
});
