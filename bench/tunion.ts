import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { assembleGate, type AssembledGate } from '../src/app/assemble.js';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { diversify, mac1Data, mac2Data, purchaseSessionKey, purseMac, tacData, tacKey } from '../src/core/credentials/tunion/purseCrypto.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import { silentLog } from '../src/core/log.js';
import { DEFAULT_TIMINGS, type GateSettings } from '../src/core/settings.js';
import { createSimBoard, type SimBoard } from '../sim/board.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { VirtualPsam } from '../sim/tunion/virtualPsam.js';
import { VirtualSamSlot } from '../sim/tunion/virtualSamSlot.js';
import { VirtualTunionCard } from '../sim/tunion/virtualTunionCard.js';
import { BenchCardChannel } from './channel.js';
import type { BenchCase } from './runner.js';

const FARE = 200;

export interface TunionBenchGate extends AssembledGate {
  board: SimBoard;
  card: VirtualTunionCard;
  close(): Promise<void>;
}

/** A bus validator taking T-Union cards, its virtual PSAM in-process, its own journal in `dir`. */
export async function tunionBenchGate(dir: string): Promise<TunionBenchGate> {
  const board = createSimBoard(Date.now());
  board.sam = new VirtualSamSlot(new VirtualPsam());
  const settings = {
    gateId: 'GATE-BENCH-TU',
    site: 'site-bench',
    zone: undefined,
    mode: 'bus',
    categories: CATEGORIES,
    fares: undefined,
    ...DEFAULT_TIMINGS,
    doubleTapMs: 0,
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
    cards: { applications: ['tunion'], deadlineMs: 1_000 },
    tunion: { cardTypes: {}, defaultCategory: 'adult', keyIndex: 1, city: '4000', pendingWindowMin: 10, metro: undefined },
    bus: { operator: 'bench-bus', route: '1', stop: undefined, fares: { default: FARE, byRoute: {}, rules: [] }, transfer: undefined, stops: [], stopRadiusM: 50, stopHysteresisM: 15 },
  } satisfies GateSettings & { site: string };
  const parts = assembleGate({ board, settings, trust: TrustStore.fromDocument(trustListOf([new TestIssuer('cq.yukuaima', 'ES256')])), denyList: new MemoryDenyList(), journalPath: join(mkdtempSync(join(dir, 'tunion-')), 'journal.db'), log: silentLog });
  await parts.gate.start();
  const card = new VirtualTunionCard({ cardNumber: '31040000000000009999', balance: 100_000_000 });
  return {
    ...parts,
    board,
    card,
    async close() {
      await parts.gate.stop();
      parts.journal.close();
    },
  };
}

/**
 * A regular rider's purse card at the bus validator, from the card in the
 * field to the committed tap: 7 card APDUs and 3 PSAM APDUs in-process, two
 * commits (the pending tap before DEBIT, the tap after). The simulated card's
 * and PSAM's own cryptography run inside the timed span, as a chip's would
 * take its time on a real reader.
 */
export function tunionCardCase(g: TunionBenchGate): BenchCase {
  return {
    name: 'decision.card.tunion',
    async measure() {
      const before = g.card.balance;
      const channel = new BenchCardChannel(g.card);
      const t0 = performance.now();
      const outcome = await g.gate.presentCard(channel);
      const t1 = performance.now();
      if (outcome.type !== 'tap' || outcome.tap.result !== 'accepted' || outcome.tap.purse?.state !== 'debited' || g.card.balance !== before - FARE) {
        throw new Error(`T-Union card: ${outcome.type === 'tap' ? `${outcome.tap.result} ${outcome.tap.reason}` : outcome.type}, balance ${before} -> ${g.card.balance}`);
      }
      g.board.passage.pass();
      g.board.clock.advance(0);
      g.board.barrier.actions.length = 0;
      g.board.indicators.tones.length = 0;
      return (t1 - t0) * 1000;
    },
  };
}

/**
 * The cryptography of one purchase, which no gate can skip: the PSAM's two
 * diversifications, its session key, MAC1 and MAC2 check; the card's session
 * key, MAC1 check, MAC2 and TAC (3DES, as the bench card).
 */
export function purseCryptoCase(): BenchCase {
  const master = Uint8Array.from(Buffer.from('3DE5C0FFEE00112233445566778899AA', 'hex'));
  const issuerFactor = Uint8Array.from([0x31, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff]);
  const serial = Uint8Array.from(Buffer.from('0000000000009999', 'hex'));
  const terminal = Uint8Array.from(Buffer.from('000000012345', 'hex'));
  const dateTime = Uint8Array.from(Buffer.from('20261123090000', 'hex'));
  const random = Uint8Array.of(1, 2, 3, 4);
  const terminalSerial = Uint8Array.of(0, 0, 1, 0);
  let atc = 0;
  return {
    name: 'limit.purse.crypto',
    measure() {
      atc = (atc + 1) & 0xffff;
      const t0 = performance.now();
      const key = diversify('3des', diversify('3des', master, issuerFactor), serial);
      for (let side = 0; side < 2; side++) {
        const session = purchaseSessionKey('3des', key, random, atc, terminalSerial);
        purseMac('3des', session, mac1Data(FARE, 0x09, terminal, dateTime));
        purseMac('3des', session, mac2Data(FARE));
      }
      purseMac('3des', tacKey('3des', key), tacData(FARE, 0x09, terminal, terminalSerial, dateTime));
      return (performance.now() - t0) * 1000;
    },
  };
}
