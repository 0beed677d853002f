import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { driverRegistry } from '../bin/driverRegistry.js';
import { gateStatus } from '../provisioning/status.js';

/*
 * status, selftest and run read one config the same way: a wrong device
 * entry is the same one-line message and exit 2 from all three. A client
 * certificate near its end is a warning, not a reason to fail.
 */

const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');

function run(command: string, args: string[]) {
  const done = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { status: done.status, stdout: done.stdout, stderr: done.stderr };
}
const citygate = (args: string[]) => run(process.execPath, [CLI, ...args]);

describe('status, selftest and run on one config', () => {
  let dir: string;
  const root = () => join(dir, 'root');
  const config = () => join(root(), 'etc', 'citygate', 'config.json');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'citygate-agree-'));
    writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([new TestIssuer('cq.yukuaima', 'ES256')])));
    const fleet = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    writeFileSync(join(dir, 'fleet-public.json'), JSON.stringify({ ...fleet, kid: randomBytes(8).toString('base64url'), alg: 'ES256' }));
    const provision = citygate([
      'provision', '--gate-id', 'AGREE-1', '--site', 'S', '--mode', 'bus', '--broker', 'mqtts://127.0.0.1:9',
      '--trust', join(dir, 'trust.json'), '--fleet-key', join(dir, 'fleet-public.json'), '--sim', '--root', root(), '--user', 'root',
    ]);
    expect(provision.status, provision.stderr).toBe(0);
    // Fleet ops' CA signs the gate's request for ten days.
    const ca = (name: string) => join(dir, name);
    expect(run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', ca('ca.key'), '-out', ca('ca.pem'), '-subj', '/CN=fleet-ca', '-days', '365']).status).toBe(0);
    const csr = join(root(), 'etc', 'citygate', 'device.csr');
    expect(run('openssl', ['x509', '-req', '-in', csr, '-CA', ca('ca.pem'), '-CAkey', ca('ca.key'), '-out', ca('device.pem'), '-days', '10']).status).toBe(0);
    const installed = citygate(['provision', 'install-cert', '--config', config(), '--cert', ca('device.pem'), '--ca', ca('ca.pem')]);
    expect(installed.status, installed.stderr).toBe(0);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives one message and exit 2 for a driver typo, from status, selftest and run alike', () => {
    const good = readFileSync(config(), 'utf8');
    const document = JSON.parse(good) as { devices: { barrier: { driver: string } } };
    document.devices.barrier.driver = 'gpoi';
    writeFileSync(config(), JSON.stringify(document));
    try {
      const expected = `citygate: ${config()}: devices.barrier.driver: "gpoi" is not a driver here; allowed: gpio, sim\n`;
      for (const command of ['status', 'selftest', 'run']) {
        const done = citygate([command, '--config', config()]);
        expect({ command, status: done.status, stderr: done.stderr }).toEqual({ command, status: 2, stderr: expected });
      }
    } finally {
      writeFileSync(config(), good);
    }
  });

  it('warns of a certificate that ends within 30 days, and fails one expired or not yet valid', async () => {
    const registry = await driverRegistry();
    const certificate = new X509Certificate(readFileSync(join(dir, 'device.pem')));
    const validTo = new Date(certificate.validTo).getTime();
    const soon = gateStatus(config(), new Date(), registry);
    expect(soon.problems.filter((p) => p.startsWith('certificate'))).toEqual([]);
    expect(soon.warnings).toEqual([expect.stringMatching(/^certificate: expires on .*, in (9|10) day\(s\): have it renewed$/)]);
    const expired = gateStatus(config(), new Date(validTo + 86_400_000), registry);
    expect(expired.problems).toContainEqual(expect.stringMatching(/^certificate: expired on /));
    const early = gateStatus(config(), new Date(new Date(certificate.validFrom).getTime() - 86_400_000), registry);
    expect(early.problems).toContainEqual(expect.stringMatching(/^certificate: not valid before /));

    const selftest = citygate(['selftest', '--config', config(), '--json']);
    const check = (JSON.parse(selftest.stdout) as { name: string; result: string; detail: string }[]).find((c) => c.name === 'certificate');
    expect(check).toMatchObject({ result: 'warn', detail: expect.stringContaining('have it renewed') });
    const table = citygate(['status', '--config', config()]);
    expect(table.stdout).toMatch(/^ {2}~ certificate: expires on /m);
    expect(table.status, table.stdout).toBe(0);
  });
});
