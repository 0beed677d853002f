import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { CardReader, CardReaderEvent } from '../hal/cardReader.js';
import { PcscCardReader } from '../hal/pcsc/pcscCardReader.js';
import { assembleGate } from '../src/app/assemble.js';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import type { Outcome } from '../src/core/gate.js';
import { DEFAULT_TIMINGS } from '../src/core/settings.js';
import { createSimBoard } from './board.js';
import { TestIssuer, trustListOf } from './issuer.js';
import { PcscdProcess } from './pcscdProcess.js';
import { ScriptedCard, VirtualCard, type ApduResponder } from './virtualCard.js';
import { VpcdCard, type VpcdInsertion } from './vpcdCard.js';

interface PcscPassenger {
  name: string;
  reader: 0 | 1;
  card: ApduResponder;
  insertion?: VpcdInsertion;
  /** `accepted`, or the refusal reason. */
  expect: string;
}

const STEP_TIMEOUT_MS = 15_000;

function passengers(issuer: TestIssuer, nowSec: number): PcscPassenger[] {
  const issue = (number: string, claims: { category?: 'adult' | 'senior' | 'student'; exp?: number } = {}): VirtualCard => VirtualCard.issue(issuer, number, { iat: nowSec - 86_400, ...claims });
  return [
    { name: 'senior card', reader: 0, card: issue('CQ-0001', { category: 'senior' }), expect: 'accepted' },
    { name: 'student card, second reader', reader: 1, card: issue('CQ-0002', { category: 'student' }), expect: 'accepted' },
    { name: 'cloned card', reader: 0, card: issue('CQ-0003').clone(), expect: 'card-auth-failed' },
    { name: 'card pulled away mid-read', reader: 1, card: issue('CQ-0004'), insertion: { removeAfterApdus: 2 }, expect: 'card-removed' },
    { name: 'expired card', reader: 0, card: issue('CQ-0005', { exp: nowSec - 3_600 }), expect: 'expired' },
    { name: 'bank card (no CG application)', reader: 1, card: new ScriptedCard([Uint8Array.from([0x6a, 0x82])]), expect: 'card-not-supported' },
    { name: 'adult card', reader: 0, card: issue('CQ-0006'), expect: 'accepted' },
  ];
}

/** The reader as the gate sees it, its events also kept in `into` for the sim (or a harness) to wait on. */
export function recorded(reader: CardReader, into: CardReaderEvent[]): CardReader {
  return {
    start: (listener) =>
      reader.start((event) => {
        into.push(event);
        listener(event);
      }),
    stop: () => reader.stop(),
  };
}

function describe(outcome: Outcome): string {
  if (outcome.type !== 'tap') return outcome.type;
  return outcome.tap.result === 'accepted' ? 'accepted' : outcome.tap.reason;
}

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`pcsc sim: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * `citygate sim --pcsc`: virtual CG cards presented through the real PC/SC
 * stack (pcsclite -> a private pcscd -> vsmartcard-vpcd, two readers) to a
 * gate on the simulated board. Every tap is one JSON line on stdout (with the
 * passenger and reader), the summary goes to stderr; exit 1 if an outcome
 * differs from what the passenger expects.
 */
export async function pcscSimCommand(options: { journal?: string } = {}): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), 'citygate-sim-pcsc-'));
  const journalPath = options.journal ?? join(scratch, 'journal.db');
  const log = pino({ level: 'warn' }, pino.destination(2));
  const daemon = await PcscdProcess.start();
  const board = createSimBoard(Date.now());
  const reader = new PcscCardReader({ socket: daemon.socketPath });
  const events: CardReaderEvent[] = [];
  board.readers = [recorded(reader, events)];
  const issuer = new TestIssuer('cq.yukuaima', 'ES256');
  const settings = {
    gateId: 'GATE-SIM-PCSC',
    site: 'cq-metro-jiefangbei',
    zone: undefined,
    mode: 'metro-entry' as const,
    categories: CATEGORIES,
    fares: { default: 200, byCategory: { senior: 0, student: 100 } },
    ...DEFAULT_TIMINGS,
    // vpcd adds about 40 ms to every exchange (see docs/hardware-pcsc.md).
    apduTimeoutMs: 1_500,
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
  };
  const { gate, journal } = assembleGate({ board, settings, trust: TrustStore.fromDocument(trustListOf([issuer])), denyList: new MemoryDenyList(), journalPath, log });
  const outcomes: Outcome[] = [];
  const slots = daemon.ports.map((port) => new VpcdCard(port));
  try {
    gate.onOutcome((outcome) => outcomes.push(outcome));
    await gate.start();
    await until('both virtual readers in pcscd', () => (daemon.readerNames.every((name) => reader.readerNames().includes(name)) ? true : undefined));

    let mismatches = 0;
    const byResult: Record<string, number> = {};
    for (const p of passengers(issuer, Math.floor(board.clock.now() / 1000))) {
      const seen = outcomes.length;
      const removals = events.filter((e) => e.type === 'card-removed').length;
      const slot = slots[p.reader]!;
      await slot.insert(p.card, p.insertion);
      const outcome = await until(`the outcome for "${p.name}"`, () => outcomes[seen]);
      const got = describe(outcome);
      byResult[got] = (byResult[got] ?? 0) + 1;
      if (outcome.type === 'tap') process.stdout.write(`${JSON.stringify({ ...outcome.tap, passenger: p.name, reader: daemon.readerNames[p.reader] })}\n`);
      if (got !== p.expect) {
        mismatches++;
        process.stderr.write(`mismatch: ${p.name}: expected ${p.expect}, got ${got}\n`);
      }
      if (got === 'accepted') board.passage.pass();
      await slot.remove();
      await until(`"${p.name}" leaving the reader`, () => (events.filter((e) => e.type === 'card-removed').length > removals ? true : undefined));
    }
    const health = events.filter((e) => e.type === 'health').map((e) => (e.type === 'health' ? { healthy: e.healthy, detail: e.detail } : undefined));
    process.stderr.write(`${JSON.stringify({ summary: { readers: daemon.readerNames, taps: outcomes.length, byResult, mismatches, health, journal: options.journal ?? null } })}\n`);
    return mismatches === 0 ? 0 : 1;
  } finally {
    for (const slot of slots) await slot.remove();
    await gate.stop();
    journal.close();
    await daemon.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
