import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../provisioning/collector/collector.js';
import { brokerConnection } from '../provisioning/fleet/brokerConnection.js';
import { fleetCmd } from '../provisioning/fleet/fleetCmd.js';
import { fleetDeny } from '../provisioning/fleet/fleetDeny.js';
import { fleetInit } from '../provisioning/fleet/fleetInit.js';
import { fleetTrust } from '../provisioning/fleet/fleetTrust.js';
import { fleetWatch } from '../provisioning/fleet/fleetWatch.js';
import type { Jwk } from '../src/core/credentials/trustList.js';
import { redactUrl } from '../src/core/sync/brokerUrl.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { RecordingLog } from '../sim/recordingLog.js';
import { perGateAcl } from './support/brokerAcl.js';
import { TestFleetCa, type PemPair } from '../sim/fleetCa.js';
import { Captured } from './support/capturedOutput.js';
import { Mosquitto } from './support/mosquitto.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';

/*
 * Fleet ops as in the field: mosquitto with TLS, client certificates
 * required, the CN as username and the per-gate ACL of docs/fleet-tools.md.
 * Every fleet tool and the collector reach it with --ca/--cert/--key or a
 * config file, and say in words why when they cannot.
 */

const root = mkdtempSync(join(tmpdir(), 'citygate-fleet-tls-'));
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const GATES = [
  { id: 'G-T1', site: 'site-a' },
  { id: 'G-T2', site: 'site-a' },
];
let ca: TestFleetCa;
let broker: Mosquitto;
let opsCert: PemPair;
const gates: SyncGate[] = [];

beforeAll(async () => {
  ca = TestFleetCa.make(join(root, 'ca'));
  const server = ca.broker('127.0.0.1');
  opsCert = ca.device('fleet-ops');
  const acl = join(root, 'acl');
  writeFileSync(acl, perGateAcl({ fleetOps: 'fleet-ops', collector: 'collector', gates: GATES }));
  broker = await Mosquitto.start({ tls: { ca: ca.ca.cert, cert: server.cert, key: server.key, acl } });
});
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  for (const gate of gates.splice(0)) await gate.dispose();
});
afterAll(async () => {
  await broker?.stop();
  rmSync(root, { recursive: true, force: true });
});

let made = 0;

/** A fleet-ops directory with its key, a trust list naming it, and a broker config file beside copies of the CA, certificate and key (relative paths). */
function opsDir(): { dir: string; jwk: Jwk; config: string; trustFile: string } {
  const dir = join(root, `ops-${++made}`);
  const output = new Captured();
  expect(fleetInit({ dir }, output)).toBe(0);
  const jwk = JSON.parse(output.stdout[0]!) as Jwk;
  const tlsDir = join(dir, 'tls');
  mkdirSync(tlsDir);
  for (const file of [ca.ca.cert, opsCert.cert, opsCert.key]) writeFileSync(join(tlsDir, basename(file)), readFileSync(file));
  const config = join(dir, 'broker.json');
  writeFileSync(config, JSON.stringify({ broker: broker.url, tls: { ca: `tls/${basename(ca.ca.cert)}`, cert: `tls/${basename(opsCert.cert)}`, key: `tls/${basename(opsCert.key)}` } }));
  const trustFile = join(dir, 'trust.json');
  writeFileSync(trustFile, JSON.stringify(trustListOf([issuer], [jwk])));
  return { dir, jwk, config, trustFile };
}

async function tlsGate(gateId: string, jwk: Jwk): Promise<SyncGate> {
  const dir = mkdtempSync(join(root, `${gateId}-`));
  writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer], [jwk])));
  const device = ca.device(gateId);
  const tls = { ca: readFileSync(ca.ca.cert, 'utf8'), cert: readFileSync(device.cert, 'utf8'), key: readFileSync(device.key, 'utf8') };
  const gate = await startSyncGate({ url: broker.url, gateId, site: 'site-a', issuers: [issuer], fleet: [], dir, startWallMs: Date.now(), tls });
  gates.push(gate);
  return gate;
}

async function reasonFor(gate: SyncGate, sub: string): Promise<string> {
  const outcome = await gate.gate.presentCode(issuer.issuerCode({ sub, iat: gate.nowSec() }));
  if (outcome.type !== 'tap') throw new Error(`no tap: ${outcome.type}`);
  return outcome.tap.reason;
}

describe('fleet tools over TLS with client certificates', () => {
  it('say why they cannot connect without the fleet CA or a client certificate, with no OpenSSL text and no stack', async () => {
    const { dir, trustFile } = opsDir();
    const noCa = new Captured();
    expect(await fleetTrust({ dir, file: trustFile, broker: broker.url, timeout: 5 }, noCa)).toBe(2);
    expect(noCa.stderr.join('\n')).toMatch(/^citygate: broker mqtts:\/\/127\.0\.0\.1:\d+: the broker's certificate is not signed by a CA this tool trusts: give the fleet's CA with --ca \(SELF_SIGNED_CERT_IN_CHAIN\); 1 signed message\(s\) stay queued/);
    const noCert = new Captured();
    expect(await fleetTrust({ dir, file: trustFile, broker: broker.url, ca: ca.ca.cert, timeout: 5 }, noCert)).toBe(2);
    expect(noCert.stderr.join('\n')).toMatch(/the broker requires a client certificate: give --cert and --key/);
    for (const line of [...noCa.stderr, ...noCert.stderr]) expect(line).not.toMatch(/\.\.\/deps|\n\s+at /);
    // The two signed updates were kept and go out with the first run that gets through.
    const through = new Captured();
    expect(await fleetTrust({ dir, file: trustFile, broker: broker.url, ca: ca.ca.cert, cert: opsCert.cert, key: opsCert.key }, through)).toBe(0);
    expect(JSON.parse(through.stdout[0]!)).toMatchObject({ seq: 3 });
  });

  it('fleet ops’ journey: two new gates take the deny list, a push is refused at both, emergency by command, status watched, taps collected', async () => {
    const { dir, jwk, config, trustFile } = opsDir();
    // The collector, with a password in its URL that no log line may show.
    const collectorCert = ca.device('collector');
    const url = broker.url.replace('mqtts://', 'mqtts://collector:s3cret-pw@');
    const log = new RecordingLog();
    const connection = brokerConnection({ broker: url, ca: ca.ca.cert, cert: collectorCert.cert, key: collectorCert.key })!;
    expect(connection.shown).toBe(broker.url.replace('mqtts://', 'mqtts://***@'));
    const collector = new Collector({ broker: connection.url, tls: connection.tls, db: join(root, 'taps.db'), clientId: 'tls-collector', log });
    await collector.start();
    cleanups.push(() => collector.stop());

    expect(await fleetTrust({ dir, file: trustFile, config }, new Captured())).toBe(0);
    expect(await fleetDeny({ dir, config, issuer: issuer.id, add: ['acct-lost'] }, new Captured())).toBe(0);

    const [g1, g2] = [await tlsGate('G-T1', jwk), await tlsGate('G-T2', jwk)];
    await waitFor(() => g1.denyList.seq(issuer.id) === 1 && g2.denyList.seq(issuer.id) === 1, 'both new gates at seq 1');

    const pushed = new Captured();
    expect(await fleetDeny({ dir, config, issuer: issuer.id, add: ['acct-stolen'] }, pushed)).toBe(0);
    expect(JSON.parse(pushed.stdout[0]!)).toMatchObject({ seq: 2, gates: { online: 2, current: 2 } });
    for (const gate of [g1, g2]) {
      expect(await reasonFor(gate, 'acct-stolen')).toBe('deny-listed');
      expect(await reasonFor(gate, 'acct-lost')).toBe('deny-listed');
    }

    const emergency = new Captured();
    expect(await fleetCmd({ dir, config, gate: 'G-T1', type: 'emergency' }, emergency)).toBe(0);
    expect(g1.gate.emergency()).toBe(true);
    expect(await fleetCmd({ dir, config, gate: 'G-T1', type: 'emergency-release' }, new Captured())).toBe(0);
    expect(g1.gate.emergency()).toBe(false);

    const watched = new Captured();
    const stop = new AbortController();
    const watching = fleetWatch({ config, signal: stop.signal }, watched);
    try {
      await waitFor(() => GATES.every(({ id }) => watched.stdout.some((line) => (JSON.parse(line) as { gate: string }).gate === id)), 'both gates watched');
    } finally {
      stop.abort();
      expect(await watching).toBe(0);
    }

    await waitFor(() => g1.journal.backlog() === 0 && g2.journal.backlog() === 0, 'every tap acked by the collector');
    expect(collector.stats().stored).toBe(4);
    await collector.stop();
    expect(log.has('collecting', { broker: connection.shown })).toBe(true);
    expect(JSON.stringify(log.lines)).not.toContain('s3cret-pw');
  });

  it('says it saw no gate where the ACL lets the client publish but hides the gates’ status', async () => {
    const { dir, jwk, config, trustFile } = opsDir();
    expect(await fleetTrust({ dir, file: trustFile, config }, new Captured())).toBe(0);
    const gate = await tlsGate('G-T1', jwk);
    // A certificate the ACL does not name as fleet ops: mosquitto drops its publishes (MQTT 3.1.1 still acks them) and never delivers it a status.
    const intern = ca.device('intern');
    const output = new Captured();
    await fleetDeny({ dir, broker: broker.url, ca: ca.ca.cert, cert: intern.cert, key: intern.key, issuer: issuer.id, add: ['acct-x'] }, output);
    expect(JSON.parse(output.stdout[0]!)).toMatchObject({ seq: 1, gates: { online: 0, current: 0 } });
    expect(output.stderr.join('\n')).toMatch(/no gate status seen on the broker: no gate has connected yet, or the broker's ACL hides citygate\/v1\/gates\/\+\/status from this client; nothing confirmed seq 1/);
    expect(gate.denyList.seq(issuer.id)).toBe(0);
  });
});

describe('secrets in URLs', () => {
  it('masks user:password in every form of URL', () => {
    expect(redactUrl('mqtts://ops:p@ss@broker:8883')).toBe('mqtts://***@broker:8883');
    expect(redactUrl('mqtt://token@broker')).toBe('mqtt://***@broker');
    expect(redactUrl('wss://broker.example/mqtt')).toBe('wss://broker.example/mqtt');
    expect(redactUrl('mqtt://broker:1883/path@x')).toBe('mqtt://broker:1883/path@x');
  });
});
