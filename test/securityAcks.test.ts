import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestIssuer } from '../sim/issuer.js';
import { FleetClient, TestCollector } from './support/fleetClient.js';
import { Mosquitto } from './support/mosquitto.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';
import { brokerForFile, cleanupAfterEach } from './support/cleanups.js';

/*
 * Issue 17, finding 3: a forged `taps/ack` lost taps silently. Any upTo up to
 * the last seq was taken, also for taps the gate had never published (20 taps
 * marked delivered, backlog 0, the collector stored none). An ack is now
 * believed only up to the highest seq the gate has published.
 */

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const broker = brokerForFile();
const defer = cleanupAfterEach();
const ABOVE_PUBLISHED = 'tap ack above what this gate has published: taken only up to the published seq';

async function syncGate(gateId: string, uploader: Parameters<typeof startSyncGate>[0]['uploader'], url = broker().url): Promise<SyncGate> {
  const gate = await startSyncGate({ url, gateId, issuers: [issuer], fleet: [], uploader });
  defer(() => gate.dispose());
  await waitFor(() => gate.link.connected(), `${gateId} connected`);
  return gate;
}

async function tap(gate: SyncGate, n: number): Promise<void> {
  const outcome = await gate.gate.presentCode(issuer.issuerCode({ sub: `acct-${n}`, iat: gate.nowSec() }));
  expect(outcome.type).toBe('tap');
}

async function client(url: string, name: string): Promise<FleetClient> {
  const c = await FleetClient.connect(url, name);
  defer(() => c.close());
  return c;
}

async function collector(url: string): Promise<TestCollector> {
  const c = await TestCollector.start(url);
  defer(() => c.close());
  return c;
}

/** Publish a forged ack; a garbage one after it shows, by its log line, that the forged one was handled. */
async function forgeAck(forger: FleetClient, gate: SyncGate, upTo: number): Promise<void> {
  const topic = `citygate/v1/gates/${gate.gateId}/taps/ack`;
  const garbage = gate.log.count('tap ack ignored: not {"upTo": seq}');
  await forger.publish(topic, JSON.stringify({ upTo }));
  await forger.publish(topic, 'not json');
  await waitFor(() => gate.log.count('tap ack ignored: not {"upTo": seq}') === garbage + 1, `the forged ack ${upTo} handled`);
}

describe('forged tap acks (issue 17, finding 3)', () => {
  it('an ack for taps never published does not mark them delivered: taken only up to the published seq, and logged', async () => {
    // No collector: what the broker carries is all the gate has published. One batch in flight, no resend soon:
    // tap 1 goes out alone as it is committed, 2..20 wait for an ack.
    const seen = await client(broker().url, 'taps-watch');
    await seen.subscribe('citygate/v1/gates/+/taps');
    const gate = await syncGate('ACK-1', { batchSize: 5, window: 1, ackTimeoutMs: 60_000 });
    for (let i = 1; i <= 20; i++) await tap(gate, i);
    const published = () => seen.json<{ taps: { seq: number }[] }>('citygate/v1/gates/ACK-1/taps').flatMap((b) => b.taps.map((t) => t.seq));
    await waitFor(() => published().length === 1, 'the first batch published');
    expect(published()).toEqual([1]);
    expect(gate.journal.backlog()).toBe(20);

    // The proof of the issue: a forged ack up to the last seq (a tap the gate holds, so not "above the last tap").
    const forger = await client(broker().url, 'ack-forger');
    await forgeAck(forger, gate, 20);
    // Taps 2..20 were never published: they stay the backlog (before the fix: all 20 delivered, backlog 0).
    expect(gate.journal.deliveredSeq()).toBe(1);
    expect(gate.journal.backlog()).toBe(19);
    expect(gate.link.status().backlog).toBe(19);
    expect(gate.log.count(ABOVE_PUBLISHED)).toBe(1);
    const line = gate.log.lines.find((l) => l.message === ABOVE_PUBLISHED)!;
    expect(line.level).toBe('warn');
    expect(line.fields).toEqual({ upTo: 20, published: 1, delivered: 0 });

    // The window opened, so 2..6 went out; the same forged ack again reaches no further than that.
    await waitFor(() => published().includes(6), 'the next batch published');
    expect(published()).toEqual([1, 2, 3, 4, 5, 6]);
    await forgeAck(forger, gate, 20);
    expect(gate.journal.deliveredSeq()).toBe(6);
    expect(gate.journal.backlog()).toBe(14);
    expect(gate.log.has(ABOVE_PUBLISHED, { upTo: 20, published: 6, delivered: 1 })).toBe(true);
    // Every tap marked delivered had gone out; every tap that had not is still held for upload.
    expect(gate.journal.taps(gate.journal.deliveredSeq()).map((t) => t.seq)).toEqual(Array.from({ length: 14 }, (_, i) => i + 7));
    expect(gate.link.connected()).toBe(true);
  });

  it('a legitimate ack after a reconnect is taken: what went out before the outage stays published', async () => {
    const flappy = await Mosquitto.start();
    defer(() => flappy.stop());
    const fleet = await collector(flappy.url);
    fleet.autoAck = false;
    const gate = await syncGate('ACK-2', { batchSize: 5, window: 40, ackTimeoutMs: 1_000 }, flappy.url);
    for (let i = 1; i <= 20; i++) await tap(gate, i);
    await waitFor(() => fleet.contiguous('ACK-2') === 20, 'all 20 stored, none acked');

    // The broker goes away; taps 21..30 are journaled while it is down, never published.
    await flappy.kill();
    await waitFor(() => !gate.link.connected(), 'the gate saw the broker go');
    for (let i = 21; i <= 30; i++) await tap(gate, i);
    await flappy.restart();

    // The collector acks what it stored before the outage (again, until the gate has subscribed once more).
    const ackUntil = async (upTo: number) => {
      for (let tries = 0; gate.journal.deliveredSeq() < upTo; tries++) {
        if (tries > 60) throw new Error(`ack ${upTo} never taken`);
        await fleet.ack('ACK-2', upTo);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    await ackUntil(20);
    expect(gate.journal.deliveredSeq()).toBe(20);
    // And the taps of the outage, once uploaded, are acknowledged as usual.
    await waitFor(() => fleet.contiguous('ACK-2') === 30, 'the outage taps stored');
    await ackUntil(30);
    expect(gate.journal.backlog()).toBe(0);
    expect(gate.log.count(ABOVE_PUBLISHED)).toBe(0);
    expect(fleet.conflicts).toEqual([]);
  });

  it('after a crash that lost the published mark, the collector\'s acks still bring the gate to the end, batch by batch', async () => {
    const fleet = await collector(broker().url);
    fleet.autoAck = false;
    const gate = await syncGate('ACK-3', { batchSize: 5, window: 40, ackTimeoutMs: 60_000 });
    for (let i = 1; i <= 40; i++) await tap(gate, i);
    await waitFor(() => fleet.contiguous('ACK-3') === 40, 'all 40 stored, none acked');
    await gate.stop();
    // What a crash before the mark was written leaves: the journal knows of nothing published.
    const db = new Database(join(gate.dir, 'journal.db'));
    db.prepare("DELETE FROM meta WHERE key = 'published_seq'").run();
    db.close();

    // Back with one batch of 5 in flight; the collector, which holds 1..40, acks 40 for every batch it gets.
    fleet.autoAck = true;
    const again = await startSyncGate({ ...gate.options, dir: gate.dir, uploader: { batchSize: 5, window: 1, ackTimeoutMs: 60_000 } });
    defer(() => again.dispose());
    await waitFor(() => again.journal.deliveredSeq() === 40, 'every tap delivered');
    expect(again.journal.backlog()).toBe(0);
    // Each ack was taken up to the batch just published, never beyond it.
    const clamps = again.log.lines.filter((line) => line.message === ABOVE_PUBLISHED).map((line) => line.fields.published);
    expect(clamps).toEqual([5, 10, 15, 20, 25, 30, 35]);
    expect(fleet.conflicts).toEqual([]);
  });
});
