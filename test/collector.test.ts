import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { connectAsync, type MqttClient } from 'mqtt';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Collector } from '../provisioning/collector/collector.js';
import { MAX_BATCH_BYTES, MAX_TAP_BYTES, MalformedBatch, parseTapBatch } from '../provisioning/collector/tapBatch.js';
import type { Tap } from '../src/core/tap.js';
import { RecordingLog } from '../sim/recordingLog.js';
import { Mosquitto } from './support/mosquitto.js';

const dir = mkdtempSync(join(tmpdir(), 'citygate-collector-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function tap(gate: string, seq: number, overrides: Partial<Tap> = {}): Tap {
  return {
    id: uuidv7(),
    seq,
    at: new Date(Date.UTC(2026, 10, 23, 8, 0, 0, seq)).toISOString(),
    gate,
    site: 'S1',
    mode: 'metro-entry',
    kind: 'code',
    issuer: 'cq.yukuaima',
    subject: `acct-${seq}`,
    category: 'adult',
    result: 'accepted',
    reason: 'ok',
    fare: 200,
    product: null,
    latencyMs: 12.5,
    ...overrides,
  };
}

function taps(gate: string, from: number, to: number): Tap[] {
  return Array.from({ length: to - from + 1 }, (_, i) => tap(gate, from + i));
}

/** What a gate does on the wire: publish batches, collect acks. */
class FakeGate {
  readonly acks: number[] = [];
  private constructor(
    readonly id: string,
    private readonly client: MqttClient,
  ) {}

  static async connect(url: string, id: string): Promise<FakeGate> {
    const client = await connectAsync(url, { clientId: `gate-${id}`, reconnectPeriod: 100 });
    const gate = new FakeGate(id, client);
    client.on('message', (_topic, body) => gate.acks.push((JSON.parse(body.toString()) as { upTo: number }).upTo));
    await client.subscribeAsync(`citygate/v1/gates/${id}/taps/ack`, { qos: 1 });
    return gate;
  }

  /** A batch as the gate sends it; `delivered`, the gate's delivered mark, as gates since issue 7 add it. */
  async send(batch: Tap[], delivered?: number): Promise<void> {
    await this.raw(JSON.stringify({ gate: this.id, ...(delivered === undefined ? {} : { delivered }), taps: batch }));
  }

  async raw(body: string): Promise<void> {
    await this.client.publishAsync(`citygate/v1/gates/${this.id}/taps`, body, { qos: 1 });
  }

  async ackFor(upTo: number): Promise<void> {
    await until(`ack ${upTo} for ${this.id}`, () => this.acks.includes(upTo));
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

function storedRows(db: string, gate: string): { id: string; seq: number; subject: string }[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare('SELECT id, seq, subject FROM taps WHERE gate = ? ORDER BY seq').all(gate) as { id: string; seq: number; subject: string }[];
  } finally {
    conn.close();
  }
}

describe('collector', () => {
  let broker: Mosquitto;
  let collector: Collector;
  const log = new RecordingLog();
  const db = join(dir, 'taps.db');

  beforeAll(async () => {
    broker = await Mosquitto.start();
    collector = new Collector({ broker: broker.url, db, clientId: 'collector-main', log });
    await collector.start();
  });
  afterAll(async () => {
    await collector.stop();
    await broker.stop();
  });

  it('stores a batch and acks up to its last seq', async () => {
    const gate = await FakeGate.connect(broker.url, 'G-basic');
    const batch = taps('G-basic', 1, 5);
    await gate.send(batch);
    await gate.ackFor(5);
    expect(storedRows(db, 'G-basic')).toEqual(batch.map((t) => ({ id: t.id, seq: t.seq, subject: t.subject })));
    await gate.close();
  });

  it("keeps a purse purchase's clearing data (card, ATC, amounts, terminal, TAC) with its tap", async () => {
    const gate = await FakeGate.connect(broker.url, 'G-purse');
    const purse = {
      aid: 'A000000632010105', card: '31040000000000012345', issuerId: '31040000', cardType: '01', balance: 5000, state: 'debited', trip: 'bus', transaction: { amount: 200, atc: 7, balanceBefore: 5000, balanceAfter: 4800, terminalId: '001122334455', terminalSerial: '0000002A', dateTime: '20261206083000', type: 9, algorithm: '3des', keyVersion: 1, tac: '1A2B3C4D', mac2Verified: true }, settles: null,
    } as unknown as Tap['purse'];
    const [purchase] = taps('G-purse', 1, 1).map((t) => ({ ...t, kind: 'tunion' as const, issuer: 'tunion', subject: '31040000000000012345', purse }));
    await gate.send([purchase!]);
    await gate.ackFor(1);
    const conn = new Database(db, { readonly: true });
    const row = conn.prepare('SELECT kind, purse FROM taps WHERE id = ?').get(purchase!.id) as { kind: string; purse: string };
    conn.close();
    expect(row.kind).toBe('tunion');
    expect(JSON.parse(row.purse)).toEqual(purse);
    await gate.close();
  });

  it('stores a resent batch once and acks it again', async () => {
    const gate = await FakeGate.connect(broker.url, 'G-resend');
    const batch = taps('G-resend', 1, 4);
    const before = collector.stats().duplicates;
    await gate.send(batch);
    await gate.ackFor(4);
    await gate.send(batch);
    await until('second ack', () => gate.acks.length === 2);
    expect(gate.acks).toEqual([4, 4]);
    expect(storedRows(db, 'G-resend')).toHaveLength(4);
    expect(collector.stats().duplicates - before).toBe(4);
    await gate.close();
  });

  it('acks only the contiguous prefix, reports the hole, and moves on once it is filled', async () => {
    const gate = await FakeGate.connect(broker.url, 'G-order');
    await gate.send(taps('G-order', 1, 5));
    await gate.ackFor(5);
    const later = taps('G-order', 11, 15);
    await gate.send(later);
    await until('ack after the hole', () => gate.acks.length === 2);
    expect(gate.acks).toEqual([5, 5]);
    expect(storedRows(db, 'G-order').map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 11, 12, 13, 14, 15]);
    expect(collector.gaps().find((g) => g.gate === 'G-order')).toEqual({ gate: 'G-order', upTo: 5, gaps: [{ from: 6, to: 10 }] });
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', fields: { gate: 'G-order', missingFrom: 6, missingTo: 10 } }));

    await gate.send(taps('G-order', 6, 10));
    await gate.ackFor(15);
    expect(collector.gaps().find((g) => g.gate === 'G-order')).toEqual({ gate: 'G-order', upTo: 15, gaps: [] });
    expect(log.lines).toContainEqual(expect.objectContaining({ message: 'gap filled', fields: { gate: 'G-order', upTo: 15 } }));
    await gate.close();
  });

  it('starts a gate it never saw at its delivered mark: a later batch of the window arriving first is a hole, never an ack', async () => {
    const gate = await FakeGate.connect(broker.url, 'G-window');
    // Batches 1..3 went to nobody (a broker that lost its sessions); 4..6 arrives first.
    await gate.send(taps('G-window', 4, 6), 0);
    await until('the hole below the later batch', () => collector.gaps().some((g) => g.gate === 'G-window'));
    expect(collector.gaps().find((g) => g.gate === 'G-window')).toEqual({ gate: 'G-window', upTo: 0, gaps: [{ from: 1, to: 3 }] });
    await gate.send(taps('G-window', 1, 3), 0);
    await gate.ackFor(6);
    // Nothing was acked while 1..3 were missing: the first ack is the one after the hole was filled.
    expect(gate.acks).toEqual([6]);
    expect(storedRows(db, 'G-window').map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    await gate.close();
  });

  it('starts a gate it never saw at the first seq of its first batch when the batch carries no delivered mark', async () => {
    const gate = await FakeGate.connect(broker.url, 'G-late');
    await gate.send(taps('G-late', 1001, 1003));
    await gate.ackFor(1003);
    expect(collector.gaps().find((g) => g.gate === 'G-late')).toEqual({ gate: 'G-late', upTo: 1003, gaps: [] });
    await gate.close();
  });

  it('neither stores nor acks a malformed batch', async () => {
    const gate = await FakeGate.connect(broker.url, 'G-bad');
    const before = collector.stats().malformed;
    await gate.raw('{"gate": "G-bad", "taps": [');
    await gate.send([tap('G-other', 1)]);
    await gate.raw(JSON.stringify({ gate: 'G-other', taps: [tap('G-other', 1)] }));
    const { reason: _dropped, ...noReason } = tap('G-bad', 1);
    await gate.raw(JSON.stringify({ gate: 'G-bad', taps: [noReason] }));
    await gate.send([tap('G-bad', 2), tap('G-bad', 1)]);
    await gate.send([tap('G-bad', 1, { id: 'not-a-uuid' })]);
    const good = taps('G-bad', 1, 2);
    await gate.send(good);
    await gate.ackFor(2);
    // The broker delivers in order: the valid batch came last, so every earlier one was handled without an ack.
    expect(gate.acks).toEqual([2]);
    expect(collector.stats().malformed - before).toBe(6);
    expect(storedRows(db, 'G-bad').map((r) => r.id)).toEqual(good.map((t) => t.id));
    expect(storedRows(db, 'G-other')).toEqual([]);
    expect(log.lines.filter((l) => l.fields.gate === 'G-bad' && l.message.startsWith('malformed'))).toHaveLength(6);
    await gate.close();
  });

  it('answers a batch without taps (an ask) with how far it has the gate\'s taps, 0 for a gate it never saw, and stores nothing', async () => {
    const gate = await FakeGate.connect(broker.url, 'G-ask');
    const before = collector.stats();
    await gate.send([], 0);
    await until('the answer for a gate never seen', () => gate.acks.length === 1);
    expect(gate.acks).toEqual([0]);
    await gate.send(taps('G-ask', 1, 3), 0);
    await gate.ackFor(3);
    await gate.send([], 0);
    await until('the answer once stored', () => gate.acks.length === 3);
    expect(gate.acks).toEqual([0, 3, 3]);
    const after = collector.stats();
    expect(after.stored - before.stored).toBe(3);
    expect(after.duplicates - before.duplicates).toBe(0);
    expect(after.malformed - before.malformed).toBe(0);
    expect(storedRows(db, 'G-ask').map((r) => r.seq)).toEqual([1, 2, 3]);
    await gate.close();
  });

  it('refuses a 10 MB batch without parsing it, logs it, and still takes the next batch', async () => {
    const gate = await FakeGate.connect(broker.url, 'G-huge');
    const before = collector.stats().malformed;
    const parse = vi.spyOn(JSON, 'parse');
    try {
      // A well-formed batch whose one tap carries 10 MB: parsed, it would be stored whole.
      const huge = JSON.stringify({ gate: 'G-huge', taps: [tap('G-huge', 1, { product: { site: 'x'.repeat(10_000_000), entries: 1 } })] });
      expect(huge.length).toBeGreaterThan(10_000_000);
      await gate.raw(huge);
      const good = taps('G-huge', 1, 2);
      await gate.send(good);
      await gate.ackFor(2);
      expect(gate.acks).toEqual([2]);
      expect(parse.mock.calls.filter(([text]) => typeof text === 'string' && text.length > MAX_BATCH_BYTES)).toEqual([]);
      expect(collector.stats().malformed - before).toBe(1);
      expect(storedRows(db, 'G-huge').map((r) => r.id)).toEqual(good.map((t) => t.id));
      expect(log.lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: 'malformed batch: not stored, not acked',
          fields: { gate: 'G-huge', bytes: huge.length, error: expect.stringMatching(/^batch of \d+ bytes, more than the 4194304 a batch may have: not read$/) },
        }),
      );
    } finally {
      parse.mockRestore();
      await gate.close();
    }
  });

  it('keeps the first tap when an id comes again with other content, and logs the conflict', async () => {
    const gate = await FakeGate.connect(broker.url, 'G-conflict');
    const original = tap('G-conflict', 1);
    await gate.send([original]);
    await gate.ackFor(1);
    const before = collector.stats().conflicts;
    await gate.send([{ ...original, subject: 'someone-else' }]);
    await until('second ack', () => gate.acks.length === 2);
    expect(collector.stats().conflicts - before).toBe(1);
    expect(storedRows(db, 'G-conflict')).toEqual([{ id: original.id, seq: 1, subject: original.subject }]);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'error', fields: expect.objectContaining({ gate: 'G-conflict', id: original.id }) }));
    await gate.close();
  });
});

describe('collectors sharing the load', () => {
  it('two collectors on one shared subscription and one database ack every tap once stored', async () => {
    const broker = await Mosquitto.start();
    const db = join(dir, 'shared.db');
    const collectors = ['a', 'b'].map((name) => new Collector({ broker: broker.url, db, clientId: `collector-${name}`, share: 'collectors', log: new RecordingLog() }));
    await Promise.all(collectors.map((c) => c.start()));
    const gate = await FakeGate.connect(broker.url, 'G-shared');
    try {
      for (let batch = 0; batch < 20; batch++) await gate.send(taps('G-shared', batch * 50 + 1, batch * 50 + 50));
      await gate.ackFor(1000);
      const stats = collectors.map((c) => c.stats());
      // Each batch went to one collector only, and both took some.
      expect(stats.map((s) => s.batches).reduce((a, b) => a + b)).toBe(20);
      expect(stats.every((s) => s.batches > 0)).toBe(true);
      expect(stats.map((s) => s.stored).reduce((a, b) => a + b)).toBe(1000);
      expect(storedRows(db, 'G-shared')).toHaveLength(1000);
    } finally {
      await Promise.all(collectors.map((c) => c.stop()));
      await gate.close();
      await broker.stop();
    }
  });
});

describe('collector across restarts', () => {
  it('gets the batches sent while it was down (persistent session) and still dedups by id', async () => {
    const broker = await Mosquitto.start({ persistence: true });
    const db = join(dir, 'restart.db');
    const options = { broker: broker.url, db, clientId: 'collector-restart', log: new RecordingLog() };
    const gate = await FakeGate.connect(broker.url, 'G-restart');
    try {
      const first = new Collector(options);
      await first.start();
      const early = taps('G-restart', 1, 5);
      await gate.send(early);
      await gate.ackFor(5);
      await first.stop();

      const missed = taps('G-restart', 6, 10);
      await gate.send(missed);
      const second = new Collector(options);
      await second.start();
      await gate.ackFor(10);
      await gate.send(early);
      await until('ack of the resent batch', () => gate.acks.filter((a) => a === 10).length === 2);
      const stats = second.stats();
      await second.stop();
      expect(stats.stored).toBe(5);
      expect(stats.duplicates).toBe(5);
      expect(storedRows(db, 'G-restart').map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await gate.close();
      await broker.stop();
    }
  });

  it('reconnects after the broker is killed and restarted', async () => {
    const broker = await Mosquitto.start();
    const db = join(dir, 'broker-restart.db');
    const collector = new Collector({ broker: broker.url, db, clientId: 'collector-broker-restart', log: new RecordingLog() });
    await collector.start();
    const gate = await FakeGate.connect(broker.url, 'G-outage');
    try {
      await gate.send(taps('G-outage', 1, 3));
      await gate.ackFor(3);
      await broker.restart();
      // The fake gate's session was lost with the broker: it comes back as a new connection under the same
      // client id, so the old one must be gone first, or the two knock each other off and miss the ack.
      await gate.close();
      const again = await FakeGate.connect(broker.url, 'G-outage');
      // A gate resends the same taps (the same ids) until they are acked.
      const resent = taps('G-outage', 4, 6);
      let sent = 0;
      await until('ack after the outage', () => {
        if (again.acks.includes(6)) return true;
        if (sent++ % 40 === 0) void again.send(resent);
        return false;
      });
      expect(storedRows(db, 'G-outage').map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      await again.close();
    } finally {
      await collector.stop();
      await gate.close();
      await broker.stop();
    }
  });
});

describe('tap batch bounds', () => {
  const body = (batch: unknown) => Buffer.from(JSON.stringify(batch));
  const refusal = (batch: unknown): string => {
    try {
      parseTapBatch(body(batch), 'G1');
    } catch (error) {
      expect(error).toBeInstanceOf(MalformedBatch);
      return (error as Error).message;
    }
    throw new Error('the batch was taken');
  };

  it("takes a real gate's batch of 500 taps, bank-card taps included, well under the byte limit", () => {
    const emv = { aid: 'A000000333010101', pan: '623456******1234', psn: '01', expiry: '2030-12-31', atc: 7, oda: 'rsa', data: Object.fromEntries(['9F26', '9F27', '9F10', '95', '9F37', '9F02', '5F2A', '9A', '9C', '82', '9F36'].map((t) => [t, 'AB'.repeat(16)])) };
    const batch = { gate: 'G1', taps: Array.from({ length: 500 }, (_, i) => tap('G1', i + 1, { kind: 'emv', emv, product: { site: 'cq-ciqikou', from: 1, until: 2, entries: 3 }, place: { operator: 'cq-bus', route: '261', stop: 'jiefangbei' } } as Partial<Tap>)) };
    expect(body(batch).length).toBeLessThan(MAX_BATCH_BYTES / 4);
    expect(parseTapBatch(body(batch), 'G1').taps).toHaveLength(500);
  });

  it.each([
    ['a product text field of 100 000 characters', { product: { site: 'x'.repeat(100_000) } }, /^taps\.0\.product\.site: /],
    ['a product with 1 000 fields', { product: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f${i}`, i])) }, /^taps\.0\.product: at most 16 fields/],
    ['a product field holding an object', { product: { site: 'S', extra: { deep: 'x'.repeat(1000) } } }, /^taps\.0\.product\.extra: /],
    ['a place of 1 000 fields', { place: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f${i}`, 'v'])) }, /^taps\.0\.place: at most 16 fields/],
    ['a place text field of 100 000 characters', { place: { stop: 'x'.repeat(100_000) } }, /^taps\.0\.place\.stop: /],
    ['emv data of 10 000 tags', { emv: { aid: 'A000000333010101', pan: '623456******1234', psn: '01', expiry: '2030-12-31', atc: 7, oda: 'rsa', data: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [(0x1000 + i).toString(16).toUpperCase().slice(-4), 'AB'])) } }, /^taps\.0\.emv: emv\.data: at most 32 tags/],
    ['a field of its own holding 100 000 characters', { note: 'x'.repeat(100_000) }, new RegExp(`^taps\\.0: a tap is at most ${MAX_TAP_BYTES} bytes as JSON`)],
  ])('refuses a tap with %s', (_what, overrides, detail) => {
    expect(refusal({ gate: 'G1', taps: [tap('G1', 1, overrides as Partial<Tap>)] })).toMatch(detail);
  });
});
