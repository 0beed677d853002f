import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CardIoError, type CardReader, type CardReaderEvent } from '../hal/cardReader.js';
import { PcscCardReader } from '../hal/pcsc/pcscCardReader.js';
import type { Alarm } from '../src/core/gate.js';
import type { Tap } from '../src/core/tap.js';
import { createSimBoard } from '../sim/board.js';
import { TestIssuer } from '../sim/issuer.js';
import type { PcscdProcess } from '../sim/pcscdProcess.js';
import { VirtualCard } from '../sim/virtualCard.js';
import { VpcdCard } from '../sim/vpcdCard.js';
import { gateFixture, START, START_SEC, type GateFixture } from './gateFixture.js';
import { startPrivatePcscd } from './support/pcscd.js';

/** Forwards a reader's events to the gate and keeps them, so tests can wait for health and removals. */
class RecordingReader implements CardReader {
  readonly events: CardReaderEvent[] = [];

  constructor(readonly inner: CardReader) {}

  start(listener: (event: CardReaderEvent) => void): Promise<void> {
    return this.inner.start((event) => {
      this.events.push(event);
      listener(event);
    });
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\npcscd log:\n${daemon.log().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let daemon: PcscdProcess;
let fixture: GateFixture;
let reader: RecordingReader;
let slots: VpcdCard[];
const alarms: Alarm[] = [];
const issuer = new TestIssuer('cq.yukuaima', 'ES256');

function card(number: string, category: 'adult' | 'senior' = 'adult'): VirtualCard {
  return VirtualCard.issue(issuer, number, { iat: START_SEC - 86_400, category });
}

/** The next `count` committed taps after the `seen` ones so far. */
async function taps(seen: number, count = 1): Promise<Tap[]> {
  const outcomes = await until(`${count} outcome(s)`, () => (fixture.outcomes.length >= seen + count ? fixture.outcomes.slice(seen, seen + count) : undefined));
  return outcomes.map((o) => {
    if (o.type !== 'tap') throw new Error(`expected a committed tap, got ${o.type}`);
    return o.tap;
  });
}

async function removeAndWait(slot: VpcdCard, readerName: string): Promise<void> {
  const before = reader.events.filter((e) => e.type === 'card-removed' && e.readerName === readerName).length;
  await slot.remove();
  await until(`card-removed on ${readerName}`, () => (reader.events.filter((e) => e.type === 'card-removed' && e.readerName === readerName).length > before ? true : undefined));
}

function opens(): number {
  return fixture.board.barrier.actions.filter((a) => a.action === 'open').length;
}

beforeAll(async () => {
  daemon = await startPrivatePcscd();
  const board = createSimBoard(START);
  reader = new RecordingReader(new PcscCardReader({ socket: daemon.socketPath, reconnectMs: { first: 100, max: 400 } }));
  board.readers = [reader];
  // apduTimeoutMs leaves room for vpcd's ~40 ms per exchange (Nagle on its two-part frames) on a loaded machine.
  fixture = await gateFixture({ apduTimeoutMs: 1_500, doubleTapMs: 0 }, { dir: mkdtempSync(join(tmpdir(), 'citygate-pcsc-')), issuer, board });
  fixture.gate.onAlarm((alarm) => alarms.push(alarm));
  slots = daemon.ports.map((port) => new VpcdCard(port));
  await until('both vpcd readers', () => (reader.events.some((e) => e.type === 'health' && e.healthy && daemon.readerNames.every((name) => e.detail.includes(name))) ? true : undefined));
});

afterAll(async () => {
  for (const slot of slots ?? []) await slot.remove();
  await fixture?.gate.stop();
  fixture?.dispose();
  await daemon?.stop();
});

describe('PC/SC reader: pcsclite -> private pcscd -> vpcd -> virtual card, through the real gate', () => {
  it('lets a good card through: accepted tap, barrier opened, card-removed when it leaves', async () => {
    const seen = fixture.outcomes.length;
    const opened = opens();
    await slots[0]!.insert(card('PCSC-0001', 'senior'));
    const [tap] = await taps(seen);
    expect(tap).toMatchObject({ kind: 'card', result: 'accepted', reason: 'ok', subject: 'PCSC-0001', category: 'senior', fare: 0 });
    expect(opens()).toBe(opened + 1);
    expect(fixture.board.barrier.state()).toBe('open');
    fixture.board.passage.pass();
    expect(fixture.board.barrier.state()).toBe('closed');
    await removeAndWait(slots[0]!, daemon.readerNames[0]!);
  });

  it('a card pulled out mid-transaction is one card-removed row and no barrier', async () => {
    const seen = fixture.outcomes.length;
    const rows = fixture.journal.taps().length;
    const opened = opens();
    const removed = slots[0]!.whenRemoved();
    await slots[0]!.insert(card('PCSC-0002'), { removeAfterApdus: 2 });
    const [tap] = await taps(seen);
    await removed;
    expect(slots[0]!.apdus).toBe(2);
    expect(tap).toMatchObject({ kind: 'card', result: 'refused', reason: 'card-removed', fare: null });
    expect(fixture.journal.taps().slice(rows).map((t) => t.reason)).toEqual(['card-removed']);
    expect(opens()).toBe(opened);
    await until('card-removed event', () => (reader.events.at(-1)?.type === 'card-removed' ? true : undefined));
    const present = reader.events.filter((e) => e.type === 'card-present').at(-1);
    if (present?.type !== 'card-present') throw new Error('no card-present event');
    const error = await present.channel.transmit(Uint8Array.from([0x00, 0xb0, 0x00, 0x00, 0x10]), 500).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardIoError);
    expect((error as CardIoError).kind).toBe('removed');
  });

  it('refuses a clone (copied certificate, other key) as card-auth-failed', async () => {
    const seen = fixture.outcomes.length;
    const opened = opens();
    await slots[0]!.insert(card('PCSC-0003').clone());
    const [tap] = await taps(seen);
    expect(tap).toMatchObject({ result: 'refused', reason: 'card-auth-failed', subject: 'PCSC-0003' });
    expect(opens()).toBe(opened);
    await removeAndWait(slots[0]!, daemon.readerNames[0]!);
  });

  it('reads two readers: a card on each is a tap each', async () => {
    const seen = fixture.outcomes.length;
    await Promise.all([slots[0]!.insert(card('PCSC-A')), slots[1]!.insert(card('PCSC-B'))]);
    const both = await taps(seen, 2);
    expect(both.map((t) => [t.subject, t.result]).sort()).toEqual([
      ['PCSC-A', 'accepted'],
      ['PCSC-B', 'accepted'],
    ]);
    fixture.board.passage.pass();
    fixture.board.passage.pass();
    await removeAndWait(slots[0]!, daemon.readerNames[0]!);
    await removeAndWait(slots[1]!, daemon.readerNames[1]!);
  });

  it('a card that does not answer in time is card-timeout, and its channel stays failed', async () => {
    const seen = fixture.outcomes.length;
    const eventsBefore = reader.events.length;
    await slots[1]!.insert(card('PCSC-SLOW'), { answerDelayMs: 2_500 });
    const [tap] = await taps(seen);
    expect(tap).toMatchObject({ result: 'refused', reason: 'card-timeout' });
    const present = reader.events.slice(eventsBefore).find((e) => e.type === 'card-present');
    if (present?.type !== 'card-present') throw new Error('no card-present event');
    const error = await present.channel.transmit(Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x00]), 1_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardIoError);
    expect((error as CardIoError).kind).toBe('timeout');
    // The slow card answers its last APDU late; only then is the reader free again.
    await new Promise((resolve) => setTimeout(resolve, 2_600));
    await removeAndWait(slots[1]!, daemon.readerNames[1]!);
  });

  it('survives pcscd dying: unhealthy with a technician message, healthy again when it is back, then taps work', async () => {
    const eventsBefore = reader.events.length;
    await daemon.kill();
    const down = await until('unhealthy health event', () => reader.events.slice(eventsBefore).find((e) => e.type === 'health' && !e.healthy));
    expect(down).toMatchObject({ type: 'health', healthy: false });
    if (down.type === 'health') expect(down.detail).toMatch(/pcscd/);
    expect(alarms.some((a) => a.type === 'device')).toBe(true);

    await daemon.restart();
    const up = await until('healthy again', () => reader.events.slice(eventsBefore).find((e) => e.type === 'health' && e.healthy && e.detail.includes(daemon.readerNames[0]!)));
    expect(up).toMatchObject({ type: 'health', healthy: true });

    const seen = fixture.outcomes.length;
    await slots[0]!.insert(card('PCSC-0004'));
    const [tap] = await taps(seen);
    expect(tap).toMatchObject({ result: 'accepted', subject: 'PCSC-0004' });
    fixture.board.passage.pass();
    await removeAndWait(slots[0]!, daemon.readerNames[0]!);
  });
});
