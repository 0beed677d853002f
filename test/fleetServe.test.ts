import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fleetDeny } from '../provisioning/fleet/fleetDeny.js';
import { fleetInit } from '../provisioning/fleet/fleetInit.js';
import { fleetRevoke } from '../provisioning/fleet/fleetRevoke.js';
import { FleetState } from '../provisioning/fleet/fleetState.js';
import { fleetTrust } from '../provisioning/fleet/fleetTrust.js';
import { keptMessage } from '../provisioning/fleet/keptMessages.js';
import { fleetAcl } from '../provisioning/fleet/serve/fleetAcl.js';
import { fleetServe } from '../provisioning/fleet/serve/fleetServe.js';
import type { FleetView } from '../provisioning/fleet/serve/fleetView.js';
import { GateRegistry } from '../provisioning/fleet/serve/gateRegistry.js';
import { TrustStore, type Jwk } from '../src/core/credentials/trustList.js';
import { DEFAULT_TIMINGS } from '../src/core/settings.js';
import { openDenyListUpdate } from '../src/core/sync/denyListMessage.js';
import { openRevocationUpdate } from '../src/core/sync/revocationUpdate.js';
import { topics } from '../src/core/sync/topics.js';
import { openTrustUpdate } from '../src/core/sync/trustUpdate.js';
import { TestFleetCa } from '../sim/fleetCa.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { RecordingLog } from '../sim/recordingLog.js';
import { Captured } from './support/capturedOutput.js';
import { Mosquitto } from './support/mosquitto.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';

/*
 * `citygate fleet serve` on a real mosquitto: a new gate at seq 0 gets the
 * deny list, the trust list and the revocation list from the service alone
 * (nothing retained on the broker, nobody running a tool), resync requests
 * are answered, the registry and /metrics follow the gates' status. And `citygate fleet acl` on a TLS mosquitto with
 * client certificates: a gate does its job, a gate cannot speak as another.
 */

const root = mkdtempSync(join(tmpdir(), 'citygate-fleet-serve-'));
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(root, { recursive: true, force: true });
});

let made = 0;
/** A fleet-ops directory with its key and the gates' trust list recorded (a hand-over, nothing published). */
async function opsDir(): Promise<{ dir: string; jwk: Jwk }> {
  const dir = join(root, `ops-${++made}`);
  const output = new Captured();
  expect(fleetInit({ dir }, output)).toBe(0);
  const jwk = JSON.parse(output.stdout[0]!) as Jwk;
  const file = join(root, `trust-${made}.json`);
  writeFileSync(file, JSON.stringify(trustListOf([issuer], [jwk])));
  expect(await fleetTrust({ dir, file, print: true, commit: true }, new Captured())).toBe(0);
  return { dir, jwk };
}

/** A new gate: its own directory, the fleet's trust list (as provisioned: seq 0), no deny list or revocation list (seq 0). */
async function newGate(url: string, gateId: string, site: string, jwk: Jwk, tls?: { ca: string; cert: string; key: string }): Promise<SyncGate> {
  const dir = mkdtempSync(join(root, `${gateId}-`));
  writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer], [jwk])));
  const gate = await startSyncGate({ url, gateId, site, issuers: [issuer], fleet: [], dir, startWallMs: Date.now(), revocations: true, ...(tls ? { tls } : {}) });
  cleanups.push(() => gate.dispose());
  return gate;
}

/** `citygate fleet serve` on DIR until the file's end; resolves with its dashboard's address. */
function serve(url: string, dir: string, log: RecordingLog, lagGraceMs?: number): Promise<string> {
  const stop = new AbortController();
  let listening: (address: string) => void = () => {};
  const address = new Promise<string>((resolve) => (listening = resolve));
  const served = fleetServe({ dir, broker: url, http: '127.0.0.1:0', clientId: `serve-${++made}-${process.pid}`, signal: stop.signal, onListening: listening, log, ...(lagGraceMs === undefined ? {} : { lagGraceMs }) });
  cleanups.push(async () => {
    stop.abort();
    await served;
  });
  return address;
}

async function getText(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

async function fleetView(base: string): Promise<FleetView> {
  return JSON.parse((await getText(`${base}api/fleet`)).text) as FleetView;
}

describe('fleet serve', () => {
  let broker: Mosquitto;
  let dir: string;
  let jwk: Jwk;
  let base: string;
  const log = new RecordingLog();

  beforeAll(async () => {
    broker = await Mosquitto.start();
    cleanups.push(() => broker.stop());
    ({ dir, jwk } = await opsDir());
    // Recorded, signed and handed over, never published: the broker holds no retained list (as after a restart without persistence).
    expect(await fleetDeny({ dir, issuer: issuer.id, add: ['acct-denied-1', 'acct-denied-2'], print: true, commit: true }, new Captured())).toBe(0);
    base = await serve(broker.url, dir, log);
  });

  it('brings a new gate at seq 0 the current deny list by itself, and puts the retained snapshot back', async () => {
    const gate = await newGate(broker.url, 'G-S1', 'site-a', jwk);
    await waitFor(() => gate.denyList.seqs()[issuer.id] === 1, 'G-S1 holds the fleet deny list (seq 1)', 10_000);
    expect(log.has('gate behind on a deny list: sending the whole list', { gate: 'G-S1', have: 0, held: 1 })).toBe(true);

    // The next new gate finds the list retained on the broker.
    const listener = await connectAsync(broker.url, { clientId: `retained-${process.pid}` });
    cleanups.push(() => listener.endAsync(true));
    const retained: Buffer[] = [];
    listener.on('message', (_topic, body, packet) => packet.retain && retained.push(body));
    await listener.subscribeAsync(topics.denyList(issuer.id), { qos: 1 });
    await waitFor(() => retained.length > 0, 'the retained snapshot');
    const trust = TrustStore.fromDocument({ issuers: [], fleet: [jwk] });
    expect(openDenyListUpdate(new Uint8Array(retained[0]!), issuer.id, trust, Math.floor(Date.now() / 1000))).toMatchObject({ seq: 1, base: 0, add: ['acct-denied-1', 'acct-denied-2'] });
  });

  it('answers a resync request with the whole list at the seq held', async () => {
    const asker = await connectAsync(broker.url, { clientId: `asker-${process.pid}` });
    cleanups.push(() => asker.endAsync(true));
    const answers: Buffer[] = [];
    asker.on('message', (_topic, body, packet) => !packet.retain && answers.push(body));
    await asker.subscribeAsync(topics.denyList(issuer.id), { qos: 1 });
    await asker.publishAsync(topics.resync('G-ASK'), JSON.stringify({ gate: 'G-ASK', issuer: issuer.id, have: 0, saw: { seq: 3, base: 2 } }), { qos: 1 });
    await waitFor(() => answers.length > 0, 'the answer to the resync request');
    const trust = TrustStore.fromDocument({ issuers: [], fleet: [jwk] });
    expect(openDenyListUpdate(new Uint8Array(answers[0]!), issuer.id, trust, Math.floor(Date.now() / 1000))).toMatchObject({ seq: 1, base: 0, add: ['acct-denied-1', 'acct-denied-2'] });
  });

  it('keeps a registry of the gates from their status, in DIR, and shows a stopped gate offline', async () => {
    const gate = await newGate(broker.url, 'G-S2', 'site-b', jwk);
    await waitFor(async () => (await fleetView(base)).gates.some((g) => g.gate === 'G-S2' && g.status?.online === true), 'G-S2 online in the registry');
    const view = await fleetView(base);
    expect(view.gates.find((g) => g.gate === 'G-S2')).toMatchObject({ site: 'site-b', status: { online: true, mode: 'metro-entry', clockTrusted: expect.any(Boolean) } });
    await gate.stop();
    await waitFor(async () => (await fleetView(base)).gates.some((g) => g.gate === 'G-S2' && g.status?.online === false), 'G-S2 offline in the registry');
    const registry = new GateRegistry(dir, { readonly: true });
    try {
      expect(registry.gates().map((g) => [g.gate, g.status?.online])).toEqual(expect.arrayContaining([['G-S2', false], ['G-S1', true]]));
    } finally {
      registry.close();
    }
  });

  it('serves Prometheus metrics: gates by state, deny-list seq and standing, snapshots sent', async () => {
    const { status, text } = await getText(`${base}metrics`);
    expect(status).toBe(200);
    expect(text).toMatch(/^citygate_fleet_gates\{state="online"\} [1-9]/m);
    expect(text).toMatch(/^citygate_fleet_gates\{state="offline"\} [1-9]/m);
    expect(text).toContain('citygate_fleet_denylist_seq{issuer="cq.yukuaima"} 1');
    expect(text).toMatch(/^citygate_fleet_snapshots_sent_total\{issuer="cq\.yukuaima"\} [1-9]/m);
    expect(text).toMatch(/^citygate_fleet_resync_requests_total\{issuer="cq\.yukuaima"\} [1-9]/m);
    expect(text).toContain('citygate_fleet_broker_connected 1');
  });

  it('refuses a request whose Host is not its own address', async () => {
    const { port } = new URL(base);
    const response = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request({ host: '127.0.0.1', port: Number(port), path: '/api/fleet', headers: { host: `evil.example:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      }, reject);
    });
    expect(response).toBe(421);
  });
});

describe('fleet serve: the trust list and the revocation list', () => {
  const REVOKED = 'A000000333:03:00012F';
  const SENDING = 'gate behind on the trust or revocation list: sending it again';
  const NOT_SENT = 'trust list not sent; it goes out again once the service is back on the broker, or when a gate asks';
  const EXPIRES_SOON = 'the revocation list held expires within 7 days; gates that connect after that get none: sign it again with a fresh expiry, citygate fleet revoke --dir DIR --broker URL (no changes)';
  const EXPIRED = 'the revocation list held has expired and gates refuse it, so it is not sent to lagging gates: sign it again with a fresh expiry, citygate fleet revoke --dir DIR --broker URL (no changes)';

  /** Every message on `topic` a new subscriber gets, retained or not. */
  async function listen(url: string, ...topicList: string[]): Promise<{ topic: string; body: Buffer; retain: boolean }[]> {
    const listener = await connectAsync(url, { clientId: `lists-${++made}-${process.pid}` });
    cleanups.push(() => listener.endAsync(true));
    const seen: { topic: string; body: Buffer; retain: boolean }[] = [];
    listener.on('message', (topic, body, packet) => seen.push({ topic, body, retain: packet.retain }));
    await listener.subscribeAsync(topicList, { qos: 1 });
    return seen;
  }

  /** Clear the broker's retained copy, as a broker restarted without persistence has none. */
  async function clearRetained(url: string, topic: string): Promise<void> {
    const client = await connectAsync(url, { clientId: `clear-${++made}-${process.pid}` });
    await client.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true });
    await client.endAsync();
  }

  it('sends both again, as signed, to a new gate when the broker lost them, and puts the retained copies back', async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.stop());
    const { dir, jwk } = await opsDir();
    const log = new RecordingLog();
    const base = await serve(broker.url, dir, log);
    const trustFile = join(root, `trust-again-${made}.json`);
    writeFileSync(trustFile, JSON.stringify(trustListOf([issuer], [jwk])));
    const trusted = new Captured();
    expect(await fleetTrust({ dir, file: trustFile, broker: broker.url }, trusted)).toBe(0);
    const revoked = new Captured();
    expect(await fleetRevoke({ dir, add: [REVOKED], broker: broker.url }, revoked)).toBe(0);
    const trustSeq = (JSON.parse(trusted.stdout[0]!) as { seq: number }).seq;
    const revocationSeq = (JSON.parse(revoked.stdout[0]!) as { seq: number }).seq;
    expect([trustSeq, revocationSeq]).toEqual([2, 1]);
    await clearRetained(broker.url, topics.trust);
    await clearRetained(broker.url, topics.revocations);

    const gate = await newGate(broker.url, 'G-L1', 'site-a', jwk);
    await waitFor(() => gate.link.status().trustListSeq === trustSeq && gate.link.status().revocationSeq === revocationSeq, 'G-L1 holds the fleet trust list and revocation list', 15_000);
    expect(log.has(SENDING, { gate: 'G-L1', list: 'trust', have: 0, held: trustSeq })).toBe(true);
    expect(log.has(SENDING, { gate: 'G-L1', list: 'revocations', have: 0, held: revocationSeq })).toBe(true);

    // Back on the broker for the next gate: the very bytes the tools signed.
    const retained = await listen(broker.url, topics.trust, topics.revocations);
    await waitFor(() => retained.filter((m) => m.retain && m.body.length > 0).length === 2, 'both retained copies');
    const state = new FleetState(dir);
    try {
      for (const list of ['trust', 'revocations'] as const) expect(retained.find((m) => m.topic === topics[list])!.body.equals(Buffer.from(keptMessage(state, list)!.payload))).toBe(true);
    } finally {
      state.close();
    }
    const trust = TrustStore.fromDocument({ issuers: [], fleet: [jwk] });
    const now = Math.floor(Date.now() / 1000);
    expect(openTrustUpdate(new Uint8Array(retained.find((m) => m.topic === topics.trust)!.body), trust, now).seq).toBe(trustSeq);
    expect(openRevocationUpdate(new Uint8Array(retained.find((m) => m.topic === topics.revocations)!.body), trust, now, DEFAULT_TIMINGS.skewSec)).toMatchObject({ seq: revocationSeq });

    const { text } = await getText(`${base}metrics`);
    expect(text).toMatch(/^citygate_fleet_lists_sent_total\{list="trust"\} [1-9]/m);
    expect(text).toMatch(/^citygate_fleet_lists_sent_total\{list="revocations"\} [1-9]/m);
    expect((await fleetView(base)).listsSent.trust).toBeGreaterThan(0);
  });

  it('sends a list again once back on the broker when its first send failed, though the gate says nothing new', async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.stop());
    const { dir, jwk } = await opsDir();
    const log = new RecordingLog();
    // A grace long enough that the broker is gone before the service answers.
    const base = await serve(broker.url, dir, log, 4_000);
    const gate = await newGate(broker.url, 'G-F1', 'site-a', jwk);
    await waitFor(async () => (await fleetView(base)).gates.some((entry) => entry.gate === 'G-F1' && entry.status?.online === true), 'the service sees G-F1 online');
    expect(log.count(SENDING)).toBe(0);
    await broker.kill();
    await waitFor(() => log.count(NOT_SENT) > 0, 'the send that failed');
    expect(log.has(SENDING, { gate: 'G-F1', list: 'trust', have: 0, held: 1 })).toBe(true);
    // Back without persistence: no retained trust list, and the gate, idle, publishes no new status.
    await broker.restart();
    await waitFor(() => gate.link.status().trustListSeq === 1, 'G-F1 holds the trust list', 30_000);
    expect(log.count(SENDING)).toBe(2);
  });

  it('checks a gate again once back on the broker after a failed send, though that gate publishes nothing new', async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.stop());
    const { dir } = await opsDir();
    const log = new RecordingLog();
    const base = await serve(broker.url, dir, log, 4_000);
    // The status an idle gate left, behind on the trust list: it says nothing more (as when only the service's connection dropped).
    const quiet = await connectAsync(broker.url, { clientId: `quiet-${++made}-${process.pid}` });
    await quiet.publishAsync(topics.status('G-Q1'), JSON.stringify({ gate: 'G-Q1', online: true, trustListSeq: 0 }), { qos: 1, retain: true });
    await quiet.endAsync();
    await waitFor(async () => (await fleetView(base)).gates.some((entry) => entry.gate === 'G-Q1' && entry.status?.online === true), 'the service sees G-Q1 online');
    await broker.kill();
    await waitFor(() => log.count(NOT_SENT) > 0, 'the send that failed');
    await broker.restart();
    const trust = await listen(broker.url, topics.trust);
    await waitFor(() => trust.some((m) => m.body.length > 0), 'the trust list published again', 30_000);
    expect(log.lines.filter((line) => line.message === SENDING).map((line) => line.fields.gate)).toEqual(['G-Q1', 'G-Q1']);
  });

  it('tells ops a week ahead that the revocation list runs out, once, and shows when in /metrics and /api/fleet', async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.stop());
    const { dir } = await opsDir();
    // Signed 25 days ago for 30: 5 days left.
    const signedAt = Date.now() - 25 * 86_400_000;
    vi.useFakeTimers({ toFake: ['Date'], now: signedAt });
    try {
      expect(await fleetRevoke({ dir, add: [REVOKED], validDays: 30, print: true, commit: true }, new Captured())).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    const exp = Math.floor(signedAt / 1000) + 30 * 86_400;
    const log = new RecordingLog();
    const base = await serve(broker.url, dir, log);
    await waitFor(() => log.count(EXPIRES_SOON) > 0, 'the notice that the revocation list expires soon');
    expect(log.has(EXPIRES_SOON, { list: 'revocations', seq: 1, exp: new Date(exp * 1000).toISOString() })).toBe(true);
    expect(log.count(EXPIRED)).toBe(0);
    expect((await fleetView(base)).revocationExp).toBe(new Date(exp * 1000).toISOString());
    const { text } = await getText(`${base}metrics`);
    expect(text).toMatch(new RegExp(`^citygate_fleet_revocation_list_expiry_timestamp_seconds ${exp}$`, 'm'));

    // Signed again for 30 days: nothing to say.
    const quiet = await opsDir();
    expect(await fleetRevoke({ dir: quiet.dir, add: [REVOKED], print: true, commit: true }, new Captured())).toBe(0);
    const quietLog = new RecordingLog();
    const quietBase = await serve(broker.url, quiet.dir, quietLog);
    expect((await fleetView(quietBase)).revocationExp).not.toBeNull();
    expect(quietLog.count(EXPIRES_SOON)).toBe(0);
    expect(log.count(EXPIRES_SOON)).toBe(1);
  });

  it('does not send an expired revocation list again, and tells ops once to sign it again', async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.stop());
    const { dir, jwk } = await opsDir();
    // Signed 40 days ago for 1 day: fleet revoke takes no clock, so its clock is set back.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 40 * 86_400_000 });
    try {
      expect(await fleetRevoke({ dir, add: [REVOKED], validDays: 1, print: true, commit: true }, new Captured())).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    const sent = await listen(broker.url, topics.revocations);
    const log = new RecordingLog();
    await serve(broker.url, dir, log);
    await waitFor(() => log.count(EXPIRED) > 0, 'the warning about the expired revocation list');
    expect(log.has(EXPIRED, { list: 'revocations', seq: 1 })).toBe(true);

    // Two gates lag on both lists; the trust list reaches each through the service, the revocation list neither.
    const first = await newGate(broker.url, 'G-E1', 'site-a', jwk);
    await waitFor(() => first.link.status().trustListSeq === 1, 'G-E1 holds the trust list', 15_000);
    // Without a retained trust list the second gate lags too, so the service checks it on both lists.
    await clearRetained(broker.url, topics.trust);
    const second = await newGate(broker.url, 'G-E2', 'site-a', jwk);
    await waitFor(() => second.link.status().trustListSeq === 1, 'G-E2 holds the trust list', 15_000);
    expect(log.has(SENDING, { gate: 'G-E2', list: 'trust' })).toBe(true);
    expect(log.lines.filter((line) => line.message === SENDING && line.fields.list === 'revocations')).toEqual([]);
    expect(log.count(EXPIRED)).toBe(1);
    expect(log.count(EXPIRES_SOON)).toBe(0);
    expect(sent).toEqual([]);
    expect([first.link.status().revocationSeq, second.link.status().revocationSeq]).toEqual([0, 0]);
  });
});

describe('fleet acl', () => {
  it('lets a gate do its job on a TLS mosquitto with the generated ACL, and refuses one gate publishing as another', async () => {
    const { dir, jwk } = await opsDir();
    const ca = TestFleetCa.make(join(root, 'ca'));
    const server = ca.broker('127.0.0.1');
    const acl = join(root, 'acl.conf');
    expect(fleetAcl({ dir, gate: ['G-A1=site-a', 'G-A2=site-a'], out: acl }, new Captured())).toBe(0);
    expect(readFileSync(acl, 'utf8')).toContain('user G-A1');
    const broker = await Mosquitto.start({ tls: { ca: ca.ca.cert, cert: server.cert, key: server.key, acl } });
    cleanups.push(() => broker.stop());
    const pem = (name: string) => {
      const pair = ca.device(name);
      return { ca: readFileSync(ca.ca.cert, 'utf8'), cert: readFileSync(pair.cert, 'utf8'), key: readFileSync(pair.key, 'utf8') };
    };

    // Its job: connect, subscribe, publish its status, take a deny list pushed by fleet ops.
    const gate = await newGate(broker.url, 'G-A1', 'site-a', jwk, pem('G-A1'));
    const ops = pem('fleet-ops');
    const opsFiles = { ca: join(root, 'ops-ca.pem'), cert: join(root, 'ops.pem'), key: join(root, 'ops.key') };
    writeFileSync(opsFiles.ca, ops.ca);
    writeFileSync(opsFiles.cert, ops.cert);
    writeFileSync(opsFiles.key, ops.key);
    const pushed = new Captured();
    expect(await fleetDeny({ dir, issuer: issuer.id, add: ['acct-x'], broker: broker.url, ...opsFiles, wait: 10 }, pushed)).toBe(0);
    expect(gate.denyList.seqs()[issuer.id]).toBe(1);
    expect(JSON.parse(pushed.stdout[0]!)).toMatchObject({ gates: { online: 1, current: 1 } });

    // G-A2 publishes a status under G-A1's name, then its own: fleet ops see its own only.
    const watcher: MqttClient = await connectAsync(broker.url, { clientId: `acl-watch-${process.pid}`, ...ops });
    cleanups.push(() => watcher.endAsync(true));
    const seen: { topic: string; body: string }[] = [];
    watcher.on('message', (topic, body, packet) => !packet.retain && seen.push({ topic, body: body.toString() }));
    await watcher.subscribeAsync(topics.status('+'), { qos: 1 });
    const impostor = await connectAsync(broker.url, { clientId: `acl-impostor-${process.pid}`, ...pem('G-A2') });
    cleanups.push(() => impostor.endAsync(true));
    await impostor.publishAsync(topics.status('G-A1'), JSON.stringify({ gate: 'G-A1', online: false, forged: true }), { qos: 1 });
    await impostor.publishAsync(topics.status('G-A2'), JSON.stringify({ gate: 'G-A2', online: true }), { qos: 1 });
    await waitFor(() => seen.some((m) => m.topic === topics.status('G-A2')), "G-A2's own status reached fleet ops");
    expect(seen.filter((m) => m.topic === topics.status('G-A1'))).toEqual([]);
    // Nor may it read another gate's commands: by the time G-A1 answers one, mosquitto has handed it to every subscriber it may go to.
    const overheard: string[] = [];
    impostor.on('message', (topic) => overheard.push(topic));
    await impostor.subscribeAsync(topics.cmd('G-A1'), { qos: 1 });
    await watcher.subscribeAsync(topics.cmdResult('G-A1'), { qos: 1 });
    await watcher.publishAsync(topics.cmd('G-A1'), Buffer.from('not a signed command'), { qos: 1 });
    await waitFor(() => seen.some((m) => m.topic === topics.cmdResult('G-A1')), "G-A1's answer to the command");
    expect(overheard).toEqual([]);
  });
});
