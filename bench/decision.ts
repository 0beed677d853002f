import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { assembleGate, type AssembledGate } from '../src/app/assemble.js';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import type { Outcome } from '../src/core/gate.js';
import { silentLog } from '../src/core/log.js';
import { DEFAULT_TIMINGS, type GateSettings } from '../src/core/settings.js';
import { createSimBoard, type SimBoard } from '../sim/board.js';
import { TestHolder, TestIssuer, trustListOf } from '../sim/issuer.js';
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

/**
 * A gate as the daemon wires it (assembleGate), on the simulated board, with
 * its journal a real file in `dir`. The board's clock starts at real wall
 * time; timing is done on performance.now(), never on the VirtualClock.
 */
export async function benchGate(dir: string): Promise<BenchGate> {
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
  };
  const journalPath = join(dir, 'journal.db');
  const parts = assembleGate({
    board,
    settings,
    trust: TrustStore.fromDocument(trustListOf([issuer])),
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

function committedAccept(outcome: Outcome, what: string): void {
  if (outcome.type !== 'tap') throw new Error(`${what}: outcome ${outcome.type}, expected a committed tap`);
  if (outcome.tap.result !== 'accepted') throw new Error(`${what}: refused (${outcome.tap.reason})`);
}

/**
 * One presentation timed from the gate API call until its promise resolves
 * with the committed tap; afterwards (untimed) the passenger walks through,
 * which uses the passage credit and closes the barrier for the next one.
 */
async function timedTap(g: BenchGate, present: () => Promise<Outcome>, what: string): Promise<number> {
  const t0 = performance.now();
  const outcome = await present();
  const t1 = performance.now();
  committedAccept(outcome, what);
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
