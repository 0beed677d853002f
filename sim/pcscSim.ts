import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CardReader, CardReaderEvent } from '../hal/cardReader.js';
import { PcscCardReader } from '../hal/pcsc/pcscCardReader.js';
import { assembleGate } from '../src/app/assemble.js';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import type { Outcome } from '../src/core/gate.js';
import type { Log } from '../src/core/log.js';
import { DEFAULT_TIMINGS } from '../src/core/settings.js';
import { CaKeyStore } from '../src/core/credentials/emv/capk.js';
import { createSimBoard } from './board.js';
import { personaliseBankCard, type BankCardOptions } from './emv/bankCardProfile.js';
import { capkEntry } from './emv/capkFile.js';
import { makeCardIssuer, type CardIssuer } from './emv/cardIssuer.js';
import { publishedTestCard, UNIONPAY_TEST_CAPK } from './emv/publishedTestCard.js';
import { makeTestCa } from './emv/testCa.js';
import { VirtualBankCard } from './emv/virtualBankCard.js';
import { TestIssuer, trustListOf } from './issuer.js';
import { PcscdProcess } from './pcscdProcess.js';
import { RunCleanup } from './runCleanup.js';
import { countByReason, simJournal, simLog, writeSummary } from './simOutput.js';
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

/** Bank cards under test CAs made for this run (RSA and SM2), and the public UnionPay test card under its test CA. */
function bankCards(): { capk: CaKeyStore; rsa: CardIssuer; sm2: CardIssuer } {
  const rsaCa = makeTestCa({ algorithm: 'RSA' });
  const sm2Ca = makeTestCa({ algorithm: 'SM2' });
  return { capk: CaKeyStore.parse([capkEntry(rsaCa), capkEntry(sm2Ca), UNIONPAY_TEST_CAPK], 'sim CA keys'), rsa: makeCardIssuer(rsaCa), sm2: makeCardIssuer(sm2Ca) };
}

function passengers(issuer: TestIssuer, nowSec: number, bank: { rsa: CardIssuer; sm2: CardIssuer }): PcscPassenger[] {
  const issue = (number: string, claims: { category?: 'adult' | 'senior' | 'student'; exp?: number } = {}): VirtualCard => VirtualCard.issue(issuer, number, { iat: nowSec - 86_400, ...claims });
  const bankCard = (cardIssuer: CardIssuer, pan: string, options: Partial<BankCardOptions> = {}): VirtualBankCard => new VirtualBankCard(personaliseBankCard(cardIssuer, { pan, ...options }));
  return [
    { name: 'UnionPay test card (QuickPass, RSA)', reader: 0, card: publishedTestCard(), expect: 'accepted' },
    { name: 'QuickPass card, SM2', reader: 1, card: bankCard(bank.sm2, '6228004444555566'), expect: 'accepted' },
    { name: 'cloned QuickPass card', reader: 0, card: bankCard(bank.rsa, '6228001111222233', { clone: true }), expect: 'card-auth-failed' },
    { name: 'Visa card (no UnionPay application)', reader: 1, card: bankCard(bank.rsa, '6228007777888899', { aids: ['A0000000031010'] }), expect: 'card-not-supported' },
    { name: 'senior card', reader: 0, card: issue('CQ-0001', { category: 'senior' }), expect: 'accepted' },
    { name: 'student card, second reader', reader: 1, card: issue('CQ-0002', { category: 'student' }), expect: 'accepted' },
    { name: 'cloned card', reader: 0, card: issue('CQ-0003').clone(), expect: 'card-auth-failed' },
    { name: 'card pulled away mid-read', reader: 1, card: issue('CQ-0004'), insertion: { removeAfterApdus: 2 }, expect: 'card-removed' },
    { name: 'expired card', reader: 0, card: issue('CQ-0005', { exp: nowSec - 3_600 }), expect: 'expired' },
    { name: 'unknown card (no application this gate takes)', reader: 1, card: new ScriptedCard([Uint8Array.from([0x6a, 0x82])]), expect: 'card-not-supported' },
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
 * `citygate sim --pcsc`: virtual CG and bank cards presented through the real PC/SC
 * stack (pcsclite -> a private pcscd -> vsmartcard-vpcd, two readers) to a
 * gate on the simulated board. Every tap is one JSON line on stdout (with the
 * passenger and reader), the summary goes to stderr; exit 1 if an outcome
 * differs from what the passenger expects.
 */
export async function pcscSimCommand(options: { journal?: string; append?: boolean } = {}): Promise<number> {
  const journal = options.journal === undefined ? undefined : simJournal(options.journal, options.append ?? false);
  const cleanup = new RunCleanup();
  const scratch = mkdtempSync(join(tmpdir(), 'citygate-sim-pcsc-'));
  cleanup.add(() => rmSync(scratch, { recursive: true, force: true }));
  const journalPath = journal ?? join(scratch, 'journal.db');
  const log = simLog();
  // Stopped even when a signal comes while it is still starting.
  const starting = PcscdProcess.start();
  cleanup.add(async () => (await starting.catch(() => undefined))?.stop());
  return cleanup.around(() => runPassengers(starting, { path: journalPath, named: journal }, log, cleanup));
}

/** The passengers through pcscd, each tap on stdout; the summary, and the exit code. */
async function runPassengers(starting: Promise<PcscdProcess>, journalFile: { path: string; named: string | undefined }, log: Log, cleanup: RunCleanup): Promise<number> {
  const daemon = await starting;
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
    // vpcd takes about 44 ms an exchange: a bank card's eight need more than a real reader's second.
    cards: { applications: ['qpboc', 'cg'] as const, deadlineMs: 5_000 },
  };
  const bank = bankCards();
  const { gate, journal } = assembleGate({
    board,
    settings,
    trust: TrustStore.fromDocument(trustListOf([issuer])),
    bank: { capk: bank.capk, tokenKey: randomBytes(32) },
    denyList: new MemoryDenyList(),
    journalPath: journalFile.path,
    log,
  });
  cleanup.add(() => journal.close());
  cleanup.add(() => gate.stop());
  const outcomes: Outcome[] = [];
  const slots = daemon.ports.map((port) => new VpcdCard(port));
  cleanup.add(async () => {
    for (const slot of slots) await slot.remove();
  });
  gate.onOutcome((outcome) => outcomes.push(outcome));
  await gate.start();
  await until('both virtual readers in pcscd', () => (daemon.readerNames.every((name) => reader.readerNames().includes(name)) ? true : undefined));

  let mismatches = 0;
  for (const p of passengers(issuer, Math.floor(board.clock.now() / 1000), bank)) {
    const seen = outcomes.length;
    const removals = events.filter((e) => e.type === 'card-removed').length;
    const slot = slots[p.reader]!;
    await slot.insert(p.card, p.insertion);
    const outcome = await until(`the outcome for "${p.name}"`, () => outcomes[seen]);
    const got = describe(outcome);
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
  // Stopped before the summary, so that nothing the stop logs comes after it.
  await cleanup.run();
  const taps = outcomes.filter((o) => o.type === 'tap');
  await writeSummary({ readers: daemon.readerNames, taps: taps.length, accepted: taps.filter((o) => o.tap.result === 'accepted').length, byReason: countByReason(outcomes), mismatches, health, journal: journalFile.named ?? null });
  return mismatches === 0 ? 0 : 1;
}
