import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetClient, TestCollector } from './support/fleetClient.js';
import { Mosquitto } from './support/mosquitto.js';
import { waitFor } from './support/waitFor.js';

const CHILD = new URL('./support/syncGateChild.mjs', import.meta.url).pathname;
const GATE = 'KILL-1';

/** The gate process: a sim gate with its FleetLink, presenting codes (test/support/syncGateChild.mjs). */
class GateProcess {
  readonly taps: number[] = [];
  ready = false;
  done: number | undefined;
  stderr = '';
  private readonly exited: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const event = JSON.parse(line) as { event: string; seq?: number; last?: number };
        if (event.event === 'ready') this.ready = true;
        if (event.event === 'tap') this.taps.push(event.seq!);
        if (event.event === 'done') this.done = event.last;
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(options: { url: string; dir: string; count: number }): Promise<GateProcess> {
    const config = { ...options, gateId: GATE, uploader: { batchSize: 25, window: 4, ackTimeoutMs: 1_000 } };
    const gate = new GateProcess(spawn(process.execPath, [CHILD, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] }));
    await waitFor(() => gate.ready || gate.child.exitCode !== null, 'the gate process started');
    if (!gate.ready) throw new Error(`gate process failed: ${gate.stderr}`);
    return gate;
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.running()) this.child.kill(signal);
    await this.exited;
  }
}

let broker: Mosquitto;
let dir: string;
const children: GateProcess[] = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
  dir = mkdtempSync(join(tmpdir(), 'citygate-gatekill-'));
});
afterAll(async () => {
  for (const child of children) await child.kill('SIGKILL');
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startGate(count: number): Promise<GateProcess> {
  const gate = await GateProcess.start({ url: broker.url, dir, count });
  children.push(gate);
  return gate;
}

describe('gate killed mid-upload', () => {
  it('loses no committed tap, stores none twice, and its will says it is offline', async () => {
    const collector = await TestCollector.start(broker.url);
    const watcher = await FleetClient.connect(broker.url, 'status-watch');
    const statusTopic = `citygate/v1/gates/${GATE}/status`;
    await watcher.subscribe(statusTopic);
    try {
      const first = await startGate(100_000);
      await watcher.next<{ online: boolean }>(statusTopic, (s) => s.online, 'the gate online');
      await waitFor(() => collector.stored.size >= 100, 'taps acked before the kill');
      // Stored but never acked: the restarted gate must take the collector's word for these.
      collector.autoAck = false;
      const acked = collector.contiguous(GATE);
      // Once its acks are late the gate holds its taps and resends only its oldest batch (docs/sync.md): what was in flight is stored unacked.
      await waitFor(() => collector.stored.size > acked, 'batches stored without an ack');
      await first.kill('SIGKILL');
      expect(first.taps.length).toBeGreaterThan(collector.contiguous(GATE));

      const will = await watcher.next<{ online: boolean }>(statusTopic, (s) => !s.online, 'the will after the kill');
      expect(will).toEqual({ gate: GATE, online: false, version: 'child' });

      collector.autoAck = true;
      const second = await startGate(200);
      await waitFor(() => second.done !== undefined, 'the restarted gate presented its codes', 30_000);
      const last = second.done!;
      await waitFor(() => collector.contiguous(GATE) === last, `every tap up to ${last} stored`, 30_000);
      await second.kill('SIGTERM');
      expect(second.stderr).toBe('');

      const db = new Database(join(dir, 'journal.db'), { readonly: true });
      const rows = db.prepare('SELECT seq, id FROM taps ORDER BY seq').all() as { seq: number; id: string }[];
      const delivered = Number((db.prepare("SELECT value FROM meta WHERE key = 'delivered_seq'").get() as { value: string }).value);
      db.close();
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
      expect(delivered).toBe(last);
      const stored = collector.storedFor(GATE);
      expect(stored.map((t) => t.id)).toEqual(rows.map((r) => r.id));
      expect(new Set(stored.map((t) => t.id)).size).toBe(last);
      expect(collector.conflicts).toEqual([]);
      // Every tap either process reported committed is among them.
      expect(Math.max(...first.taps, ...second.taps)).toBe(last);

      const offline = watcher.json<{ online: boolean }>(statusTopic).at(-1);
      expect(offline).toEqual({ gate: GATE, online: false, version: 'child' });
    } finally {
      await collector.close();
      await watcher.close();
    }
  });
});
