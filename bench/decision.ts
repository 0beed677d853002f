import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { assembleGate, type AssembledGate } from '../src/app/assemble.js';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { CaKeyStore } from '../src/core/credentials/emv/capk.js';
import type { BankCardKeys } from '../src/core/credentials/qpbocCard.js';
import type { TransportTrustDocument } from '../src/core/credentials/transport/transportTrust.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import type { Outcome } from '../src/core/gate.js';
import { silentLog } from '../src/core/log.js';
import { DEFAULT_TIMINGS, type CardSettings, type GateSettings } from '../src/core/settings.js';
import type { Tap } from '../src/core/tap.js';
import { createSimBoard, type SimBoard } from '../sim/board.js';
import { personaliseBankCard } from '../sim/emv/bankCardProfile.js';
import { capkEntry } from '../sim/emv/capkFile.js';
import { makeCardIssuer } from '../sim/emv/cardIssuer.js';
import { makeTestCa } from '../sim/emv/testCa.js';
import { VirtualBankCard } from '../sim/emv/virtualBankCard.js';
import { TestHolder, TestIssuer, trustListOf } from '../sim/issuer.js';
import { TransportRoot, TransportTestIssuer, type TransportRider } from '../sim/transport/transportParties.js';
import { VirtualCard } from '../sim/virtualCard.js';
import { BenchCardChannel } from './channel.js';
import type { BenchCase } from './runner.js';

export interface BenchGate extends AssembledGate {
  board: SimBoard;
  issuer: TestIssuer;
  holder: TestHolder;
  card: VirtualCard;
  journalPath: string;
  close(): Promise<void>;
}

export interface BankBenchGate extends BenchGate {
  /** One simulated UnionPay QuickPass card per fDDA algorithm, each under its own test CA. */
  bankCards: { rsa: VirtualBankCard; sm2: VirtualBankCard };
}

/**
 * A gate as the daemon wires it (assembleGate), on the simulated board, with
 * its journal a real file in `dir`. The board's clock starts at real wall
 * time; timing is done on performance.now(), never on the VirtualClock.
 */
export async function benchGate(dir: string): Promise<BenchGate> {
  return wireGate(dir, 'journal.db');
}

/**
 * The same gate set up to take bank cards as well (CAPK with the two test
 * CAs, applications qpboc then cg), with its own journal in `dir`. A gate of
 * its own, so that the CG card on benchGate keeps its five APDUs (a bank-card
 * gate first asks every card for its PPSE).
 */
export async function bankGate(dir: string): Promise<BankBenchGate> {
  const rsaCa = makeTestCa({ algorithm: 'RSA' });
  const sm2Ca = makeTestCa({ algorithm: 'SM2' });
  const pan = '6228001234567890';
  const bankCards = {
    rsa: new VirtualBankCard(personaliseBankCard(makeCardIssuer(rsaCa), { pan })),
    sm2: new VirtualBankCard(personaliseBankCard(makeCardIssuer(sm2Ca), { pan })),
  };
  const bank: BankCardKeys = { capk: CaKeyStore.parse([capkEntry(rsaCa), capkEntry(sm2Ca)], 'bench'), tokenKey: Buffer.alloc(32, 1) };
  const gate = await wireGate(dir, 'journal-bank.db', { bank, cards: { applications: ['qpboc', 'cg'], deadlineMs: 1000 } });
  return { ...gate, bankCards };
}

export interface TransportBenchGate extends BenchGate {
  /** One regular rider of a transport issuer: the gate verifies its certificate and account once. */
  rider: TransportRider;
}

/**
 * The same gate with a transport root and issuer in its trust list, and its
 * own journal in `dir`, for national transport QR codes (version 0x81: the
 * user ids come from the code's fields).
 */
export async function transportGate(dir: string): Promise<TransportBenchGate> {
  const issuer = new TransportTestIssuer(new TransportRoot(0x01), 'C0DE0001');
  const transport = { roots: [issuer.root.trustEntry()], issuers: [issuer.id] };
  const gate = await wireGate(dir, 'journal-transport.db', { transport });
  const rider = issuer.enrol({ accountNumber: '3104770011223344556F', version: 0x81, authorisedUntil: nowSec(gate.board) + 86_400 });
  return { ...gate, rider };
}

async function wireGate(dir: string, journalFile: string, options: { bank?: BankCardKeys; cards?: CardSettings; transport?: TransportTrustDocument } = {}): Promise<BenchGate> {
  const board = createSimBoard(Date.now());
  const issuer = new TestIssuer('cq.yukuaima', 'ES256');
  const nowSec = Math.floor(board.clock.now() / 1000);
  const holder = TestHolder.enrol(issuer, { sub: 'acct-regular-holder', iat: nowSec - 3600 }, 'ES256');
  const card = VirtualCard.issue(issuer, 'CARD-0001', { iat: nowSec - 86_400 }, 'ES256');
  const settings: GateSettings & { site: string } = {
    gateId: 'GATE-BENCH-1',
    site: 'site-bench',
    zone: undefined,
    mode: 'metro-entry',
    categories: CATEGORIES,
    fares: { default: 200, byCategory: { senior: 0 } },
    ...DEFAULT_TIMINGS,
    // Every presentation is a new tap: the same card again is not a repeat.
    doubleTapMs: 0,
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
    ...(options.cards ? { cards: options.cards } : {}),
  };
  const journalPath = join(dir, journalFile);
  const parts = assembleGate({
    board,
    settings,
    trust: TrustStore.fromDocument({ ...trustListOf([issuer]), ...(options.transport ? { transport: options.transport } : {}) }),
    bank: options.bank,
    denyList: new MemoryDenyList(),
    journalPath,
    log: silentLog,
  });
  await parts.gate.start();
  return {
    ...parts,
    board,
    issuer,
    holder,
    card,
    journalPath,
    async close() {
      await parts.gate.stop();
      parts.journal.close();
    },
  };
}

function nowSec(board: SimBoard): number {
  return Math.floor(board.clock.now() / 1000);
}

function committedAccept(outcome: Outcome, what: string): asserts outcome is Extract<Outcome, { type: 'tap' }> {
  if (outcome.type !== 'tap') throw new Error(`${what}: outcome ${outcome.type}, expected a committed tap`);
  if (outcome.tap.result !== 'accepted') throw new Error(`${what}: refused (${outcome.tap.reason})`);
}

/**
 * One presentation timed from the gate API call until its promise resolves
 * with the committed tap; afterwards (untimed) the passenger walks through,
 * which uses the passage credit and closes the barrier for the next one.
 */
async function timedTap(g: BenchGate, present: () => Promise<Outcome>, what: string, check?: (tap: Tap) => void): Promise<number> {
  const t0 = performance.now();
  const outcome = await present();
  const t1 = performance.now();
  committedAccept(outcome, what);
  check?.(outcome.tap);
  g.board.passage.pass();
  afterTap(g);
  return (t1 - t0) * 1000;
}

/**
 * Bench hygiene, untimed: let the VirtualClock drop the cancelled open-timeout
 * timers (it only does so when advanced) and forget the simulated devices'
 * command logs, so that thousands of taps leave nothing behind for the GC.
 */
function afterTap(g: BenchGate): void {
  g.board.clock.advance(0);
  g.board.barrier.actions.length = 0;
  g.board.indicators.tones.length = 0;
}

/**
 * The CPU work of an issuer-code decision (a fresh code made and decided; the
 * decider only reads the replay guard), without its commit: what the paced
 * commit limit runs between two commits.
 */
export function decisionWork(g: BenchGate): () => void {
  let i = 0;
  return () => {
    const text = g.issuer.issuerCode({ sub: `acct-paced-${i++ % 1000}`, iat: nowSec(g.board) });
    const decision = g.decider.decideCode(text, { nowMs: g.board.clock.now(), clockTrusted: true });
    if (decision.result !== 'accepted') throw new Error(`paced work: code refused (${decision.reason})`);
  };
}

/** Issuer-signed CG1 code (profile a), a fresh one (new cti) each time, ES256. */
export function issuerCodeCase(g: BenchGate): BenchCase {
  let i = 0;
  return {
    name: 'decision.code.issuer',
    measure() {
      const text = g.issuer.issuerCode({ sub: `acct-${i++ % 1000}`, iat: nowSec(g.board) });
      return timedTap(g, () => g.gate.presentCode(text), 'issuer code');
    },
  };
}

/** Holder-bound offline code (profile b) of one regular holder: inner credential cached, new iat/counter each time. */
export function holderCodeCase(g: BenchGate): BenchCase {
  return {
    name: 'decision.code.holder',
    measure() {
      const text = g.holder.offlineCode(nowSec(g.board));
      return timedTap(g, () => g.gate.presentCode(text), 'holder code');
    },
  };
}

/** The same CG card each time (certificate cached after its first tap), APDUs in-process. */
export function cardCase(g: BenchGate): BenchCase {
  return {
    name: 'decision.card',
    measure() {
      const channel = new BenchCardChannel(g.card);
      return timedTap(g, () => g.gate.presentCard(channel), 'card');
    },
  };
}

/**
 * A transport QR code of one regular rider, a fresh one each time (the phone
 * signs each anew), made untimed: its certificate and account cached after
 * the first, one SM2 verification of the user's signature per code.
 */
export function transportCodeCase(g: TransportBenchGate): BenchCase {
  return {
    name: 'decision.code.transport',
    measure() {
      const code = g.rider.code(nowSec(g.board));
      return timedTap(g, () => g.gate.presentCode(code), 'transport code', (tap) => {
        if (tap.issuer !== 'transport' || tap.subject !== '3104770011223344556F') throw new Error(`transport code: tap of ${tap.issuer} ${tap.subject}`);
      });
    },
  };
}

/**
 * The same UnionPay QuickPass card each time (a regular rider: issuer and ICC
 * certificates cached after its first tap, one fDDA signature checked per
 * tap), APDUs in-process. The simulated card's own work (its fDDA signature,
 * which a real card computes on its chip) is inside the timed span, as the CG
 * card's is; `cardUs` gets what it took, one entry per measure() call.
 */
export function bankCardCase(g: BankBenchGate, algorithm: 'rsa' | 'sm2'): BenchCase & { cardUs: number[] } {
  const card = g.bankCards[algorithm];
  const cardUs: number[] = [];
  return {
    name: `decision.card.qpboc.${algorithm}`,
    cardUs,
    async measure() {
      const channel = new BenchCardChannel(card, true);
      const us = await timedTap(g, () => g.gate.presentCard(channel), `bank card ${algorithm}`, (tap) => {
        // A bank-card tap, passed by this fDDA, for the ATC the card signed in this very tap.
        if (tap.kind !== 'emv' || tap.emv?.oda !== algorithm || tap.emv.atc !== card.transactionCounter) {
          throw new Error(`bank card ${algorithm}: tap ${tap.kind}, oda ${tap.emv?.oda}, ATC ${tap.emv?.atc} (card ${card.transactionCounter})`);
        }
      });
      cardUs.push(channel.cardUs);
      return us;
    },
  };
}
