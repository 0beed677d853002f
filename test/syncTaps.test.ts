import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestIssuer } from '../sim/issuer.js';
import { FleetClient, TestCollector } from './support/fleetClient.js';
import { Mosquitto } from './support/mosquitto.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';
import { brokerForFile, cleanupAfterEach } from './support/cleanups.js';

const TAP_FIELDS = ['id', 'seq', 'at', 'gate', 'site', 'mode', 'kind', 'issuer', 'subject', 'category', 'result', 'reason', 'fare', 'product', 'latencyMs', 'place', 'emv'];

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const broker = brokerForFile();
const defer = cleanupAfterEach();

async function collector(url: string): Promise<TestCollector> {
  const c = await TestCollector.start(url);
  defer(() => c.close());
  return c;
}

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

describe('tap upload', () => {
  it('sends batches in seq order within the window, resends without an ack, and moves the mark only on a sound ack', async () => {
    const fleet = await collector(broker().url);
    fleet.autoAck = false;
    const gate = await syncGate('TAPS-1', { batchSize: 7, window: 2, ackTimeoutMs: 600 });
    for (let i = 1; i <= 20; i++) await tap(gate, i);

    // Two batches in flight, then after each ack timeout the oldest batch alone again (a probe), never beyond the window.
    const seen = () => fleet.batches.flatMap((b) => b.taps.map((t) => t.seq));
    await waitFor(() => fleet.batches.filter((b) => b.taps[0]!.seq === 1).length >= 2, 'the first batch resent after the ack timeout');
    const oldest = fleet.batches[0]!.taps.map((t) => t.seq);
    expect(oldest[0]).toBe(1);
    expect(fleet.batches[1]!.taps[0]!.seq).toBe(oldest.at(-1)! + 1);
    for (const probe of fleet.batches.slice(2)) expect(probe.taps.map((t) => t.seq)).toEqual(oldest);
    expect(Math.max(...seen())).toBeLessThanOrEqual(14);
    for (const batch of fleet.batches) {
      expect(batch.gate).toBe('TAPS-1');
      expect(batch.taps.length).toBeGreaterThan(0);
      expect(batch.taps.length).toBeLessThanOrEqual(7);
      const seqs = batch.taps.map((t) => t.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      for (const t of batch.taps) expect(Object.keys(t).sort()).toEqual([...TAP_FIELDS].sort());
    }
    const first = fleet.batches[0]!.taps[0]!;
    expect(first).toMatchObject({ seq: 1, gate: 'TAPS-1', site: 'site-a', mode: 'metro-entry', kind: 'code', issuer: 'cq.yukuaima', subject: 'acct-1', result: 'accepted', reason: 'ok', fare: 200 });
    expect(first.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(gate.journal.deliveredSeq()).toBe(0);
    expect(gate.link.status().backlog).toBe(20);

    await fleet.ack('TAPS-1', 7);
    await waitFor(() => gate.journal.deliveredSeq() === 7, 'the ack moved the delivered mark to 7');
    await waitFor(() => fleet.batches.some((b) => b.taps.some((t) => t.seq === 20)), 'the rest sent once the window opened');
    expect(gate.journal.backlog()).toBe(13);
    expect(gate.link.status().backlog).toBe(13);

    // Each bad ack is followed by a garbage one, whose log line shows the bad one was handled before it.
    const garbageLogged = () => gate.log.count('tap ack ignored: not {"upTo": seq}');
    const ackTopic = 'citygate/v1/gates/TAPS-1/taps/ack';
    const bad = [
      { payload: '{"upTo": 3}', invalid: false },
      { payload: '{"upTo": 7}', invalid: false },
      { payload: '{"upTo": 999}', invalid: false },
      { payload: '{"upTo": 21}', invalid: false },
      { payload: 'not json', invalid: true },
      { payload: '{"upTo": -1}', invalid: true },
      { payload: '{"upTo": "15"}', invalid: true },
      { payload: '[]', invalid: true },
      { payload: '{"upTo": 1.5}', invalid: true },
    ];
    for (const { payload, invalid } of bad) {
      const before = garbageLogged();
      await fleet.fleet.publish(ackTopic, payload);
      await fleet.fleet.publish(ackTopic, '\u0000garbage');
      await waitFor(() => garbageLogged() === before + (invalid ? 2 : 1), `ack ${payload} handled`);
      expect(gate.journal.deliveredSeq()).toBe(7);
    }
    expect(gate.log.count('tap ack ignored: above the last tap')).toBe(2);
    expect(gate.link.connected()).toBe(true);

    await fleet.ack('TAPS-1', 20);
    await waitFor(() => gate.journal.deliveredSeq() === 20, 'the ack moved the delivered mark to 20');
    expect(gate.journal.backlog()).toBe(0);
    expect(gate.link.status().backlog).toBe(0);
  });

  it('after a restart asks the collector how far it has the taps, and sends none of those it stored again', async () => {
    const fleet = await collector(broker().url);
    fleet.autoAck = false;
    const gate = await syncGate('TAPS-ASK', { batchSize: 5, window: 40, ackTimeoutMs: 60_000 });
    for (let i = 1; i <= 40; i++) await tap(gate, i);
    await waitFor(() => fleet.contiguous('TAPS-ASK') === 40, 'all 40 stored, none acked');
    await gate.stop();
    const before = fleet.batches.length;
    fleet.autoAck = true;
    const again = await startSyncGate({ ...gate.options, dir: gate.dir, uploader: { batchSize: 5, window: 1, ackTimeoutMs: 60_000 } });
    defer(() => again.dispose());
    await waitFor(() => again.journal.deliveredSeq() === 40, 'the answer to the ask moved the mark to 40');
    // One batch without taps, answered: nothing the collector holds went again.
    expect(fleet.batches.slice(before)).toEqual([{ gate: 'TAPS-ASK', delivered: 0, taps: [] }]);
    expect(fleet.duplicates).toBe(0);
    expect(again.log.has('asking the collector how far it has the taps sent before', { delivered: 0, published: 40 })).toBe(true);
    // New taps flow as before.
    await tap(again, 41);
    await waitFor(() => again.journal.deliveredSeq() === 41, 'the next tap acknowledged');
  });

  it('after a restart, its ask unanswered (a collector from before asks), sends again from the mark and takes the ack for taps stored beyond what it sent again', async () => {
    const fleet = await collector(broker().url);
    fleet.autoAck = false;
    // Taps go out one per batch as they are committed; a wide window lets all 40 out without an ack.
    const gate = await syncGate('TAPS-2', { batchSize: 5, window: 40, ackTimeoutMs: 60_000 });
    for (let i = 1; i <= 40; i++) await tap(gate, i);
    await waitFor(() => fleet.contiguous('TAPS-2') === 40, 'all 40 stored, none acked');
    await gate.stop();
    const before = fleet.batches.length;
    // Back with a window of one batch: it has sent 1..5 again when the collector says it holds 1..40.
    const again = await startSyncGate({ ...gate.options, dir: gate.dir, uploader: { batchSize: 5, window: 1, ackTimeoutMs: 300 } });
    defer(() => again.dispose());
    await waitFor(() => fleet.batches.slice(before).some((b) => b.taps[0]?.seq === 1), 'the first batch sent again');
    const sentAgain = fleet.batches.slice(before);
    expect(sentAgain[0]).toEqual({ gate: 'TAPS-2', delivered: 0, taps: [] });
    expect(sentAgain.find((b) => b.taps.length > 0)!.taps.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(again.log.has('asking the collector how far it has the taps sent before', { delivered: 0, published: 40 })).toBe(true);
    await fleet.ack('TAPS-2', 40);
    await waitFor(() => again.journal.deliveredSeq() === 40, 'the collector\'s ack taken');
    expect(again.journal.backlog()).toBe(0);
  });

  it('delivers every tap exactly once to the store across broker kills and network flapping while taps keep coming', async () => {
    const flappy = await Mosquitto.start();
    defer(() => flappy.stop());
    const fleet = await collector(flappy.url);
    const gate = await syncGate('TAPS-3', { batchSize: 20, window: 4, ackTimeoutMs: 800 }, flappy.url);

    let presenting = true;
    let presented = 0;
    const traffic = (async () => {
      while (presenting) {
        await tap(gate, ++presented);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    // A kill mid-upload, then flapping: killed again soon after each restart.
    await waitFor(() => fleet.stored.size >= 40, 'some taps stored before the first kill');
    await flappy.kill();
    await waitFor(() => presented >= fleet.stored.size + 40, 'taps committed while the broker is down');
    await flappy.restart();
    for (let flap = 0; flap < 3; flap++) {
      const connects = gate.log.count('connected to the broker');
      await waitFor(() => gate.log.count('connected to the broker') > connects, 'the gate reconnected');
      const stored = fleet.stored.size;
      await waitFor(() => fleet.stored.size > stored, 'uploads resumed');
      await flappy.kill();
      await flappy.restart();
    }
    await waitFor(() => fleet.stored.size >= 300, 'uploads resumed after the flapping');
    presenting = false;
    await traffic;

    const last = gate.journal.lastTapSeq();
    expect(last).toBe(presented);
    await waitFor(() => gate.journal.deliveredSeq() === last, `all ${last} taps acknowledged`, 30_000);
    const journalIds = gate.journal.taps().map((t) => t.id);
    const stored = fleet.storedFor('TAPS-3');
    expect(stored.map((t) => t.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(stored.map((t) => t.id)).toEqual(journalIds);
    expect(new Set(journalIds).size).toBe(last);
    expect(fleet.conflicts).toEqual([]);
    expect(gate.log.count('connected to the broker')).toBeGreaterThanOrEqual(5);
    // Every broker kill is in the field log as a lost link, not only as the reconnect after it.
    expect(gate.log.count('broker connection lost')).toBeGreaterThanOrEqual(4);
    expect(gate.journal.backlog()).toBe(0);
  });
});

/*
 * Issue 17, finding 3: a forged `taps/ack` lost taps silently. Any upTo up to
 * the last seq was taken, also for taps the gate had never published (20 taps
 * marked delivered, backlog 0, the collector stored none). An ack is now
 * believed only up to the highest seq the gate has published.
 */
const ABOVE_PUBLISHED = 'tap ack above what this gate has published: taken only up to the published seq';

async function client(url: string, name: string): Promise<FleetClient> {
  const c = await FleetClient.connect(url, name);
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
