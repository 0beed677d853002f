import { createServer, connect, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TestIssuer } from '../sim/issuer.js';
import { FleetClient } from './support/fleetClient.js';
import { commandPayload, denyListPayload, TestFleetKey } from './support/fleetSigner.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';
import { brokerForFile, cleanupAfterEach } from './support/cleanups.js';

const STATUS_FIELDS = ['gate', 'online', 'version', 'mode', 'site', 'denyList', 'trustListSeq', 'revocationSeq', 'backlog', 'lastTapAt', 'clockTrusted', 'journal', 'alarms', 'hal', 'rules', 'emergency', 'emergencyPassages', 'at'];
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const fleetKey = new TestFleetKey('ES256');

type Status = Record<string, unknown> & { online: boolean };

/** A TCP hop between gate and broker whose connections the test can cut, as a lost network would. */
class CuttableLink {
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<CuttableLink> {
    const server = createServer();
    const link = new CuttableLink(server);
    server.on('connection', (downstream) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const socket of [downstream, upstream]) {
        link.sockets.add(socket);
        socket.on('close', () => link.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      downstream.pipe(upstream);
      upstream.pipe(downstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return link;
  }

  get url(): string {
    const address = this.server.address();
    if (typeof address !== 'object' || !address) throw new Error('not listening');
    return `mqtt://127.0.0.1:${address.port}`;
  }

  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const broker = brokerForFile();
const defer = cleanupAfterEach();

async function syncGate(gateId: string, url = broker().url): Promise<SyncGate> {
  const gate = await startSyncGate({ url, gateId, issuers: [issuer], fleet: [fleetKey] });
  defer(() => gate.dispose());
  await waitFor(() => gate.link.connected(), `${gateId} connected`);
  return gate;
}

/** A fresh subscriber to the gate's status topic: it gets the retained status first. */
async function watch(gateId: string): Promise<{ client: FleetClient; topic: string; statuses: () => Status[] }> {
  const client = await FleetClient.connect(broker().url, 'status-watch');
  defer(() => client.close());
  const topic = `citygate/v1/gates/${gateId}/status`;
  await client.subscribe(topic);
  return { client, topic, statuses: () => client.json<Status>(topic) };
}

describe('status', () => {
  it('is retained on connect with the fields of docs/sync.md, and republished on a change', async () => {
    const gate = await syncGate('STAT-1');
    const watcher = await watch('STAT-1');
    const first = await watcher.client.next<Status>(watcher.topic, (s) => s.online, 'the retained online status');
    expect(Object.keys(first).sort()).toEqual([...STATUS_FIELDS].sort());
    expect(first).toMatchObject({ gate: 'STAT-1', online: true, version: '0.1.0-test', mode: 'metro-entry', site: 'site-a', denyList: {}, trustListSeq: 0, backlog: 0, lastTapAt: null, clockTrusted: true, journal: 'ok', alarms: [], emergency: false, emergencyPassages: 0 });
    expect(first.at).toMatch(ISO_MS);
    expect(typeof first.hal).toBe('object');

    // Mode, deny-list seq and alarms each publish a new status.
    await watcher.client.publish('citygate/v1/gates/STAT-1/cmd', fleetKey.sign(commandPayload({ type: 'set-mode', mode: 'bus', gate: 'STAT-1', exp: gate.nowSec() + 60 })));
    await watcher.client.next<Status>(watcher.topic, (s) => s.mode === 'bus', 'a status with the new mode');
    await watcher.client.publish(`citygate/v1/denylist/${issuer.id}`, fleetKey.sign(denyListPayload({ issuer: issuer.id, seq: 3, base: 0, add: ['x'] })));
    await watcher.client.next<Status>(watcher.topic, (s) => JSON.stringify(s.denyList) === JSON.stringify({ [issuer.id]: 3 }), 'a status with the deny-list seq');
    gate.board.passage.pass();
    const alarmed = await watcher.client.next<Status>(watcher.topic, (s) => Array.isArray(s.alarms) && s.alarms.length > 0, 'a status with the alarm');
    expect(alarmed.alarms).toEqual([{ type: 'tailgate', detail: '', at: expect.stringMatching(ISO_MS) }]);

    // What a newcomer sees is the latest, retained.
    const late = await watch('STAT-1');
    const retained = await late.client.next<Status>(late.topic, () => true, 'the retained status');
    expect(late.client.received.find((m) => m.topic === late.topic)?.retain).toBe(true);
    expect(retained).toMatchObject({ online: true, mode: 'bus', denyList: { [issuer.id]: 3 } });
    expect(retained.alarms).toHaveLength(1);
  });

  it('shows on connect the backlog and last tap left undelivered', async () => {
    const gate = await syncGate('STAT-2');
    for (let i = 0; i < 3; i++) await gate.gate.presentCode(issuer.issuerCode({ sub: `acct-${i}`, iat: gate.nowSec() }));
    const restarted = await gate.restart();
    defer(() => restarted.dispose());
    await waitFor(() => restarted.link.connected(), 'reconnected');
    const watcher = await watch('STAT-2');
    const status = await watcher.client.next<Status>(watcher.topic, (s) => s.online, 'the retained status after the restart');
    expect(status.backlog).toBe(3);
    expect(status.lastTapAt).toBe(restarted.journal.taps(2, 1)[0]!.at);
  });

  it('a clean stop publishes the offline status itself', async () => {
    const gate = await syncGate('STAT-3');
    await gate.stop();
    const watcher = await watch('STAT-3');
    const status = await watcher.client.next<Status>(watcher.topic, () => true, 'the retained status after the stop');
    expect(status).toEqual({ gate: 'STAT-3', online: false, version: '0.1.0-test' });
    // A clean stop is not a lost link in the field log.
    expect(gate.log.count('connected to the broker')).toBe(1);
    expect(gate.log.count('broker connection lost')).toBe(0);
  });

  it('a lost connection leaves the will as the retained status, until the gate is back', async () => {
    const hop = await CuttableLink.start(broker().port);
    defer(() => hop.close());
    const gate = await syncGate('STAT-4', hop.url);
    const watcher = await watch('STAT-4');
    await watcher.client.next<Status>(watcher.topic, (s) => s.online, 'online');
    hop.cut();
    const will = await watcher.client.next<Status>(watcher.topic, (s) => !s.online, 'the will');
    expect(will).toEqual({ gate: 'STAT-4', online: false, version: '0.1.0-test' });
    await waitFor(() => watcher.statuses().filter((s) => s.online).length >= 2, 'online again after the reconnect');
    expect(watcher.statuses().map((s) => s.online)).toEqual([true, false, true]);
    expect(gate.link.connected()).toBe(true);
  });
});
