import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector, RECEIVE_MAXIMUM, type CollectorCounts } from '../provisioning/collector/collector.js';
import { exited, forkChild, nextMessage } from '../faults/fleetSim/children.js';
import type { CollectorReport } from '../faults/fleetSim/collectorWorker.js';
import { PostgresTapStore } from '../provisioning/collector/postgresTapStore.js';
import type { IncomingBatch } from '../provisioning/collector/tapStorage.js';
import { TapStore } from '../provisioning/collector/tapStore.js';
import type { Tap } from '../src/core/tap.js';
import { Postgres } from '../sim/postgresProcess.js';
import { RecordingLog } from '../sim/recordingLog.js';
import { Mosquitto } from './support/mosquitto.js';
import { makeTap, makeTaps, TapPublisher } from './support/tapPublisher.js';
import { waitFor } from './support/waitFor.js';

const GAP_WARNING = 'gap in seq: taps missing; acks stop below it';

let server: Postgres;
let broker: Mosquitto;

beforeAll(async () => {
  [server, broker] = await Promise.all([Postgres.start(), Mosquitto.start()]);
});
afterAll(async () => {
  await Promise.all([server?.remove(), broker?.stop()]);
});

/** A fresh database on the test server, its URL. */
async function database(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return server.urlOf(name);
}

/** What PostgreSQL holds for `gate`, read by the test itself: every row, and the ids counted distinct. */
async function storedTaps(url: string, gate: string): Promise<{ rows: { id: string; seq: number; subject: string }[]; distinctIds: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query<{ id: string; seq: string; subject: string }>('SELECT id, seq, subject FROM taps WHERE gate = $1 ORDER BY seq', [gate]);
    const distinct = await client.query<{ n: string }>('SELECT count(DISTINCT id) AS n FROM taps WHERE gate = $1', [gate]);
    return { rows: rows.rows.map((r) => ({ id: r.id, seq: Number(r.seq), subject: r.subject })), distinctIds: Number(distinct.rows[0]!.n) };
  } finally {
    await client.end();
  }
}

const summary = (batch: readonly Tap[]) => batch.map((t) => ({ id: t.id, seq: t.seq, subject: t.subject }));

describe('collector into PostgreSQL', () => {
  let url: string;
  let collector: Collector;
  const log = new RecordingLog();

  beforeAll(async () => {
    url = await database('single');
    collector = new Collector({ broker: broker.url, db: url, clientId: 'pg-collector', log });
    await collector.start();
  });
  afterAll(async () => {
    await collector?.stop();
  });

  it('stores the taps of gates once each, with their fields, and acks up to the last seq', async () => {
    const gates = await Promise.all(['PG-A', 'PG-B'].map((id) => TapPublisher.connect(broker.url, id)));
    try {
      const sent = gates.map((gate) => [makeTaps(gate.gate, 1, 40), makeTaps(gate.gate, 41, 75)]);
      await Promise.all(gates.map(async (gate, i) => {
        for (const batch of sent[i]!) await gate.send(batch, gate.delivered);
        await gate.ackFor(75);
      }));
      for (const [i, gate] of gates.entries()) {
        const stored = await storedTaps(url, gate.gate);
        expect(stored.rows).toEqual(summary(sent[i]!.flat()));
        expect(stored.distinctIds).toBe(75);
      }
      expect(await collector.progress()).toEqual(expect.arrayContaining([{ gate: 'PG-A', upTo: 75, gaps: [] }, { gate: 'PG-B', upTo: 75, gaps: [] }]));
    } finally {
      await Promise.all(gates.map((gate) => gate.close()));
    }
  });

  it('stores a batch sent again nothing twice, counts it as duplicates and acks it again', async () => {
    const gate = await TapPublisher.connect(broker.url, 'PG-resend');
    try {
      const batch = makeTaps('PG-resend', 1, 10);
      const before = collector.counts().duplicates;
      await gate.send(batch, 0);
      await gate.ackFor(10);
      await gate.send(batch, 0);
      await waitFor(() => gate.acks.length === 2, 'the second ack');
      expect(gate.acks).toEqual([10, 10]);
      expect(collector.counts().duplicates - before).toBe(10);
      const stored = await storedTaps(url, 'PG-resend');
      expect(stored.rows).toEqual(summary(batch));
    } finally {
      await gate.close();
    }
  });

  it('keeps the first tap when an id comes again with other content', async () => {
    const gate = await TapPublisher.connect(broker.url, 'PG-conflict');
    try {
      const original = makeTap('PG-conflict', 1);
      await gate.send([original], 0);
      await gate.ackFor(1);
      await gate.send([{ ...original, subject: 'someone-else' }], 1);
      await waitFor(() => gate.acks.length === 2, 'the second ack');
      expect(collector.counts().conflicts).toBe(1);
      expect((await storedTaps(url, 'PG-conflict')).rows).toEqual(summary([original]));
    } finally {
      await gate.close();
    }
  });

  it('acks nothing while the database is down, and stores and acks the batch sent again once it is back', async () => {
    const gate = await TapPublisher.connect(broker.url, 'PG-outage');
    try {
      const batch = makeTaps('PG-outage', 1, 5);
      await server.stop();
      try {
        await gate.send(batch, 0);
        await waitFor(() => log.has('cannot store batch: not acked, the gate will send it again', { gate: 'PG-outage' }), 'the failed commit logged');
        expect(gate.acks).toEqual([]);
      } finally {
        await server.restart();
      }
      // The gate sends again for want of an ack.
      await gate.send(batch, 0);
      await gate.ackFor(5);
      expect(gate.acks).toEqual([5]);
      expect((await storedTaps(url, 'PG-outage')).rows).toEqual(summary(batch));
    } finally {
      await gate.close();
    }
  });
});

describe('the PostgreSQL store', () => {
  let url: string;
  beforeAll(async () => {
    url = await database('store');
  });

  it('a later batch of the window arriving first is awaited, not a gap; an acked range missing is a gap', async () => {
    const store = await PostgresTapStore.open(url);
    try {
      const now = new Date().toISOString();
      const [later] = await store.storeBatches([{ gate: 'ST-order', taps: makeTaps('ST-order', 11, 20), delivered: 0 }], now);
      expect(later).toMatchObject({ stored: 10, upTo: 0, opened: undefined, awaited: { from: 1, to: 10 } });
      const [earlier] = await store.storeBatches([{ gate: 'ST-order', taps: makeTaps('ST-order', 1, 10), delivered: 0 }], now);
      expect(earlier).toMatchObject({ stored: 10, upTo: 20, opened: undefined, awaited: undefined, filled: true });
      // Taps 21..30 acked by someone else: this database will never get them from the gate.
      const [beyond] = await store.storeBatches([{ gate: 'ST-order', taps: makeTaps('ST-order', 31, 35), delivered: 30 }], now);
      expect(beyond).toMatchObject({ upTo: 20, opened: { from: 21, to: 30 }, awaited: undefined });
      expect(await store.progress()).toEqual([{ gate: 'ST-order', upTo: 20, gaps: [{ from: 21, to: 30 }] }]);
    } finally {
      await store.close();
    }
  });

  it('two stores writing batches of the same gates at once store every tap once and agree on the range', async () => {
    const stores = await Promise.all([PostgresTapStore.open(url), PostgresTapStore.open(url)]);
    try {
      const gates = ['ST-c1', 'ST-c2', 'ST-c3'];
      // Each gate's window of 6 batches of 10, dealt alternately to the two stores; every batch sent with delivered 0.
      const batches = gates.flatMap((gate) => Array.from({ length: 6 }, (_, b) => ({ gate, taps: makeTaps(gate, b * 10 + 1, b * 10 + 10), delivered: 0 })));
      const dealt = [batches.filter((_, i) => i % 2 === 0), batches.filter((_, i) => i % 2 === 1).reverse()];
      const outcomes = (await Promise.all(dealt.map((mine, s) => Promise.all(mine.map((batch) => stores[s]!.storeBatches([batch], new Date().toISOString())))))).flat(2);
      expect(outcomes.reduce((n, o) => n + o.stored, 0)).toBe(180);
      expect(outcomes.filter((o) => o.opened !== undefined)).toEqual([]);
      for (const gate of gates) {
        const stored = await storedTaps(url, gate);
        expect(stored.rows.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
        expect(stored.distinctIds).toBe(60);
      }
      expect((await stores[0]!.progress()).filter((p) => gates.includes(p.gate))).toEqual(gates.map((gate) => ({ gate, upTo: 60, gaps: [] })));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});

describe('a group of batches in one PostgreSQL transaction', () => {
  /** A batch of the generated runs: gate 0 or 1, an ask or seqs from..to, maybe sent with other content (a conflict). */
  const batchArb = fc.oneof(
    fc.record({ gate: fc.integer({ min: 0, max: 1 }), ask: fc.constant(true as const) }),
    fc
      .record({ gate: fc.integer({ min: 0, max: 1 }), from: fc.integer({ min: 1, max: 12 }), length: fc.integer({ min: 1, max: 4 }), delivered: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }), changed: fc.boolean() })
      .map((b) => ({ ...b, ask: false as const })),
  );
  const groupsArb = fc.array(fc.array(batchArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 });

  it('gives every batch the outcome the SQLite store gives it, batch by batch, and leaves the same ranges', async () => {
    const url = await database('groups');
    const store = await PostgresTapStore.open(url);
    const dir = mkdtempSync(join(tmpdir(), 'citygate-groups-'));
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(groupsArb, async (groups) => {
          run++;
          const gates = [`GR${run}-a`, `GR${run}-b`];
          const universe = gates.map((gate) => makeTaps(gate, 1, 15));
          const toBatch = (b: (typeof groups)[number][number]): IncomingBatch => {
            const gate = gates[b.gate]!;
            if (b.ask) return { gate, taps: [], delivered: undefined };
            const taps = universe[b.gate]!.slice(b.from - 1, b.from - 1 + b.length).map((tap) => (b.changed ? { ...tap, subject: `${tap.subject}-other` } : tap));
            return { gate, taps, delivered: b.delivered === undefined ? undefined : Math.min(b.delivered, taps[0]!.seq - 1) };
          };
          const reference = new TapStore(join(dir, `run-${run}.db`));
          try {
            for (const group of groups) {
              const batches = group.map(toBatch);
              const now = new Date().toISOString();
              const expected = reference.storeBatches(batches, now);
              expect(await store.storeBatches(batches, now)).toEqual(expected);
            }
            const ranges = (await store.progress()).filter((p) => gates.includes(p.gate));
            expect(ranges).toEqual(reference.progress());
          } finally {
            reference.close();
          }
        }),
        { numRuns: 40 },
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an ask (a batch without taps) into PostgreSQL', () => {
  it('is answered with how far the gate\'s taps are stored, 0 for a gate never seen, and stores nothing', async () => {
    const url = await database('asks');
    const collector = new Collector({ broker: broker.url, db: url, clientId: 'pg-ask', log: new RecordingLog() });
    await collector.start();
    const gate = await TapPublisher.connect(broker.url, 'PG-ASK');
    try {
      await gate.send([], 0);
      await waitFor(() => gate.acks.length === 1, 'the answer for a gate never seen');
      await gate.send(makeTaps('PG-ASK', 1, 4), 0);
      await gate.ackFor(4);
      await gate.send([], 4);
      await waitFor(() => gate.acks.length === 3, 'the answer once stored');
      expect(gate.acks).toEqual([0, 4, 4]);
      expect((await storedTaps(url, 'PG-ASK')).rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
      expect(collector.counts()).toMatchObject({ stored: 4, duplicates: 0, malformed: 0 });
    } finally {
      await gate.close();
      await collector.stop();
    }
  });
});

describe('collectors sharing the load into one PostgreSQL database', () => {
  it('two collectors on a shared subscription store every tap exactly once and ack every gate, without a gap warning', async () => {
    const url = await database('shared');
    const logs = [new RecordingLog(), new RecordingLog()];
    const collectors = logs.map((log, i) => new Collector({ broker: broker.url, db: url, clientId: `pg-shared-${i}`, share: 'pg-collectors', log }));
    await Promise.all(collectors.map((c) => c.start()));
    const gates = await Promise.all(Array.from({ length: 6 }, (_, i) => TapPublisher.connect(broker.url, `SH-${i}`)));
    const WINDOW = 8;
    const BATCHES = 16;
    const PER_BATCH = 25;
    try {
      // As a gate sends: a window of batches in flight before any ack, each carrying the delivered mark of its sending.
      await Promise.all(gates.map(async (gate) => {
        for (let b = 0; b < BATCHES; b++) {
          if (b >= WINDOW) await gate.ackFor((b - WINDOW + 1) * PER_BATCH);
          await gate.send(makeTaps(gate.gate, b * PER_BATCH + 1, (b + 1) * PER_BATCH), gate.delivered);
        }
        await gate.ackFor(BATCHES * PER_BATCH);
      }));
      for (const gate of gates) {
        const stored = await storedTaps(url, gate.gate);
        expect(stored.rows.map((r) => r.seq)).toEqual(Array.from({ length: BATCHES * PER_BATCH }, (_, i) => i + 1));
        expect(stored.distinctIds).toBe(BATCHES * PER_BATCH);
      }
      const counts = collectors.map((c) => c.counts());
      expect(counts.every((c) => c.batches > 0)).toBe(true);
      expect(counts.reduce((n, c) => n + c.batches, 0)).toBe(gates.length * BATCHES);
      expect(counts.reduce((n, c) => n + c.stored, 0)).toBe(gates.length * BATCHES * PER_BATCH);
      expect(logs.flatMap((log) => log.lines.filter((line) => line.message === GAP_WARNING))).toEqual([]);
      expect(logs.flatMap((log) => log.lines.filter((line) => line.level === 'error'))).toEqual([]);
    } finally {
      await Promise.all(gates.map((gate) => gate.close()));
      await Promise.all(collectors.map((c) => c.stop()));
    }
  });
});

describe('a collector of a share group that hangs', () => {
  it('holds back at most its receive maximum of batches: the broker drops it with what it queued for it, the other stores the rest, and what it held is all it stores late', async () => {
    // A broker of its own that logs, so that the test can see it drop the hung collector.
    const own = await Mosquitto.start({ log: true });
    const url = await database('hung');
    const alive = new Collector({ broker: own.url, db: url, clientId: 'hang-alive', share: 'hang-group', log: new RecordingLog() });
    await alive.start();
    // The other member in a process of its own, so that it can hang as a frozen host does (SIGSTOP).
    const hung = forkChild('collectorWorker', [own.url, url, 'hang-frozen', 'hang-group']);
    let hungCounts: CollectorCounts | undefined;
    hung.on('message', (message: CollectorReport) => {
      if (message.type === 'counts') hungCounts = message.counts;
    });
    const gate = await TapPublisher.connect(own.url, 'HANG-1');
    // More batches than the receive maximum (64) for each collector: what the hung one cannot take is queued for it, then dropped.
    const TAPS = 400;
    const all = makeTaps('HANG-1', 1, TAPS);
    const resendMissing = async () => {
      for (const tap of all.slice(gate.delivered)) await gate.send([tap], gate.delivered);
    };
    try {
      await nextMessage(hung, (m) => ((m as CollectorReport).type === 'collecting' ? true : undefined), 'the second collector', 20_000);
      hung.kill('SIGSTOP');
      // One tap per batch: about half are dealt to the hung collector, which reads none of them.
      await resendMissing();
      // Its keepalive (5 s) unanswered for 7.5 s, the broker drops it, and with its session what it held queued.
      await waitFor(() => own.log().includes('Client hang-frozen has exceeded timeout, disconnecting'), 'the broker dropped the hung collector', 30_000);
      // As a gate does: everything above the delivered mark again until acked; now all of it goes to the live one.
      await waitFor(
        async () => {
          if (gate.delivered >= TAPS) return true;
          await resendMissing();
          await new Promise((resolve) => setTimeout(resolve, 500));
          return false;
        },
        'every tap acked with one collector hung',
        30_000,
      );
      expect((await storedTaps(url, 'HANG-1')).rows.map((r) => r.seq)).toEqual(all.map((t) => t.seq));

      // Thawed, it reads what the broker had handed it before it hung, at most its receive maximum, all stored
      // by now, and nothing more: the batches queued for it went with its session.
      hung.kill('SIGCONT');
      let seen = -1;
      await waitFor(
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          const now = hungCounts?.batches ?? -1;
          const still = now === seen;
          seen = now;
          return still;
        },
        'the thawed collector done with what it held',
        30_000,
      );
      expect(hungCounts!.batches).toBeGreaterThan(0);
      expect(hungCounts!.batches).toBeLessThanOrEqual(RECEIVE_MAXIMUM);
      expect(hungCounts!.stored).toBe(0);
      expect(hungCounts!.duplicates).toBe(hungCounts!.batches);
      const after = await storedTaps(url, 'HANG-1');
      expect(after.rows).toHaveLength(TAPS);
      expect(after.distinctIds).toBe(TAPS);
    } finally {
      hung.kill('SIGCONT');
      if (hung.connected) hung.send({ type: 'stop' });
      await exited(hung, 5_000);
      await gate.close();
      await alive.stop();
      await own.stop();
    }
  }, 120_000);
});
