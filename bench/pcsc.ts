/*
 * pcsc.tap: a virtual CG card through the real PC/SC stack (pcsclite -> a
 * private pcscd -> vsmartcard-vpcd -> the card over TCP), timed from the
 * driver's card-present event to the gate's committed tap (decision, barrier
 * command, SQLite commit). Cards alternate between the two vpcd readers so
 * that one card leaving (seen at pcscd's next 400 ms poll) overlaps the next
 * tap. Needs pcscd, vsmartcard-vpcd and systemd-socket-activate.
 *
 *   node dist/bench/pcsc.js          # BENCH_PCSC_N (200), BENCH_PCSC_WARMUP (10)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CardReaderEvent } from '../hal/cardReader.js';
import { PcscCardReader } from '../hal/pcsc/pcscCardReader.js';
import { assembleGate } from '../src/app/assemble.js';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import type { Outcome } from '../src/core/gate.js';
import { silentLog } from '../src/core/log.js';
import { DEFAULT_TIMINGS } from '../src/core/settings.js';
import { createSimBoard } from '../sim/board.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { PcscdProcess } from '../sim/pcscdProcess.js';
import { VirtualCard } from '../sim/virtualCard.js';
import { VpcdCard } from '../sim/vpcdCard.js';
import { round1, summarise } from './stats.js';

const STEP_TIMEOUT_MS = 15_000;

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`bench pcsc: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

export async function benchPcsc(plan = { warmup: 10, n: 200 }): Promise<object[]> {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-bench-pcsc-'));
  const daemon = await PcscdProcess.start();
  const board = createSimBoard(Date.now());
  const reader = new PcscCardReader({ socket: daemon.socketPath });
  const presentAt = new Map<unknown, number>();
  const removals = new Map<string, number>();
  board.readers = [
    {
      start: (listener) =>
        reader.start((event: CardReaderEvent) => {
          if (event.type === 'card-present') presentAt.set(event.channel, performance.now());
          if (event.type === 'card-removed') removals.set(event.readerName, (removals.get(event.readerName) ?? 0) + 1);
          listener(event);
        }),
      stop: () => reader.stop(),
    },
  ];
  const issuer = new TestIssuer('cq.yukuaima', 'ES256');
  const nowSec = Math.floor(board.clock.now() / 1000);
  const settings = {
    gateId: 'GATE-BENCH-PCSC',
    site: 'site-bench',
    zone: undefined,
    mode: 'metro-entry' as const,
    categories: CATEGORIES,
    fares: { default: 200, byCategory: {} },
    ...DEFAULT_TIMINGS,
    // Every presentation is a new tap; vpcd's exchanges are slow (about 40 ms each).
    doubleTapMs: 0,
    apduTimeoutMs: 1_500,
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
  };
  const { gate, journal } = assembleGate({ board, settings, trust: TrustStore.fromDocument(trustListOf([issuer])), denyList: new MemoryDenyList(), journalPath: join(dir, 'journal.db'), log: silentLog });
  const outcomes: { outcome: Outcome; at: number }[] = [];
  gate.onOutcome((outcome: Outcome) => outcomes.push({ outcome, at: performance.now() }));
  const slots = daemon.ports.map((port) => new VpcdCard(port));
  const cards = slots.map((_, i) => VirtualCard.issue(issuer, `BENCH-${i}`, { iat: nowSec - 86_400 }));
  const leaving: (Promise<void> | undefined)[] = slots.map(() => undefined);
  const samples: number[] = [];
  try {
    await gate.start();
    await until('the vpcd readers', () => (daemon.readerNames.every((name) => reader.readerNames().includes(name)) ? true : undefined));
    for (let i = 0; i < plan.warmup + plan.n; i++) {
      const k = i % slots.length;
      await leaving[k];
      const seen = outcomes.length;
      presentAt.clear();
      await slots[k]!.insert(cards[k]!);
      const { outcome, at } = await until('a committed tap', () => outcomes[seen]);
      if (outcome.type !== 'tap' || outcome.tap.result !== 'accepted') throw new Error(`bench pcsc: expected an accepted tap, got ${outcome.type === 'tap' ? outcome.tap.reason : outcome.type}`);
      const [presented] = [...presentAt.values()];
      if (presented === undefined) throw new Error('bench pcsc: a tap without a card-present event');
      if (i >= plan.warmup) samples.push((at - presented) * 1000);
      board.passage.pass();
      const name = daemon.readerNames[k]!;
      const before = removals.get(name) ?? 0;
      leaving[k] = (async () => {
        await slots[k]!.remove();
        await until(`the card leaving ${name}`, () => ((removals.get(name) ?? 0) > before ? true : undefined));
      })();
    }
    await Promise.all(leaving);
    const s = summarise(samples);
    return [{ name: 'pcsc.tap', unit: 'us', n: s.n, p50: round1(s.p50), p99: round1(s.p99), mean: round1(s.mean), min: round1(s.min), max: round1(s.max) }];
  } finally {
    for (const slot of slots) await slot.remove();
    await gate.stop();
    journal.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function intFromEnv(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

if (process.argv[1] === import.meta.filename) {
  const figures = await benchPcsc({ warmup: intFromEnv('BENCH_PCSC_WARMUP', 10), n: intFromEnv('BENCH_PCSC_N', 200) });
  for (const figure of figures) process.stdout.write(`${JSON.stringify(figure)}\n`);
}
