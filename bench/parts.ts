/*
 * Where a decision's time goes: the pieces of Gate.presentCode / presentCard
 * timed one by one, with the same gate wiring and disk as bench/run.ts.
 * Not part of `npm run bench`; run it when a ratio is off. `phase.<kind>.*`
 * splits the gate's own taps (see PhaseProbe); `part.*` times pieces alone.
 *
 *   npx tsc -p . && node dist/bench/parts.js
 *
 * Output lines as run.ts: {"name":"part.*","unit":"us",...}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { decodeBase45 } from '../src/core/credentials/base45.js';
import { parseCoseSign1, toBeSigned } from '../src/core/credentials/cose.js';
import { Journal } from '../src/core/journal.js';
import { MIGRATIONS } from '../src/core/journalSchema.js';
import type { Outcome } from '../src/core/gate.js';
import type { TapDraft } from '../src/core/tap.js';
import { signBytes, makeKeyPair } from '../sim/issuer.js';
import { BenchCardChannel } from './channel.js';
import { bankGate, benchGate, type BankBenchGate, type BenchGate } from './decision.js';
import { commitCase, verifyCase } from './limits.js';
import { runInterleaved, type BenchCase } from './runner.js';
import { round1, summarise } from './stats.js';

function us(t0: number, t1: number): number {
  return (t1 - t0) * 1000;
}

function nowSec(g: BenchGate): number {
  return Math.floor(g.board.clock.now() / 1000);
}

function time(g: BenchGate) {
  return { nowMs: g.board.clock.now(), clockTrusted: true };
}

function decideCases(g: BenchGate): BenchCase[] {
  let i = 0;
  return [
    {
      name: 'part.decide.code.issuer',
      measure() {
        const text = g.issuer.issuerCode({ sub: `acct-${i++ % 1000}`, iat: nowSec(g) });
        const t0 = performance.now();
        const d = g.decider.decideCode(text, time(g));
        const t1 = performance.now();
        if (d.result !== 'accepted') throw new Error(`issuer code refused: ${d.reason}`);
        return us(t0, t1);
      },
    },
    {
      name: 'part.decide.code.holder',
      measure() {
        const text = g.holder.offlineCode(nowSec(g));
        const t0 = performance.now();
        const d = g.decider.decideCode(text, time(g));
        const t1 = performance.now();
        if (d.result !== 'accepted') throw new Error(`holder code refused: ${d.reason}`);
        return us(t0, t1);
      },
    },
    {
      name: 'part.decide.card',
      async measure() {
        const channel = new BenchCardChannel(g.card);
        const t0 = performance.now();
        const d = await g.decider.decideCard(channel, time(g));
        const t1 = performance.now();
        if (d.result !== 'accepted') throw new Error(`card refused: ${d.reason}`);
        return us(t0, t1);
      },
    },
  ];
}

const PHASES = ['pre', 'decide', 'card', 'mid', 'append', 'post', 'gc'] as const;
type Phase = (typeof PHASES)[number];

/**
 * The gate's own path split in phases, through its public parts only: the
 * decider's and the journal's methods are wrapped on these instances.
 *   pre     presentCode/presentCard called -> decider starts (queue, state)
 *   decide  Decider.decideCode / decideCard (for cards: all the APDUs too; for bank cards less `card`)
 *   card    bank cards: the simulated card's own time answering (its fDDA signature above all)
 *   mid     decider done -> Journal.append called (card release, draft, barrier open, lights, screen)
 *   append  Journal.append: the row inserts and the commit (WAL fsync)
 *   post    commit done -> the caller's await resumes (replay guard, promise hops)
 *   gc      garbage collection pauses that fell inside the tap (also counted in the phases above)
 */
class PhaseProbe {
  readonly samples = new Map<string, number[]>();
  private readonly gcs: PerformanceEntry[] = [];
  private readonly taps: { kind: string; t0: number; t1: number }[] = [];
  private marks = { decideStart: 0, decideEnd: 0, appendStart: 0, appendEnd: 0 };
  private readonly observer = new PerformanceObserver((list) => this.gcs.push(...list.getEntries()));

  constructor(g: BenchGate) {
    this.observer.observe({ entryTypes: ['gc'] });
    const decider = g.decider;
    const decideCode = decider.decideCode.bind(decider);
    const decideCard = decider.decideCard.bind(decider);
    const journal = g.journal;
    const append = journal.append.bind(journal);
    const m = this.marks;
    decider.decideCode = (text, time) => {
      m.decideStart = performance.now();
      try {
        return decideCode(text, time);
      } finally {
        m.decideEnd = performance.now();
      }
    };
    decider.decideCard = async (channel, time) => {
      m.decideStart = performance.now();
      try {
        return await decideCard(channel, time);
      } finally {
        m.decideEnd = performance.now();
      }
    };
    journal.append = (draft, used) => {
      m.appendStart = performance.now();
      try {
        return append(draft, used);
      } finally {
        m.appendEnd = performance.now();
      }
    };
  }

  async tap(kind: string, g: BenchGate, present: () => Promise<Outcome>, timedCard?: BenchCardChannel): Promise<number> {
    const t0 = performance.now();
    const outcome = await present();
    const t1 = performance.now();
    if (outcome.type !== 'tap' || outcome.tap.result !== 'accepted') throw new Error(`${kind}: not an accepted tap`);
    g.board.passage.pass();
    g.board.clock.advance(0);
    const m = this.marks;
    const cardMs = timedCard ? timedCard.cardUs / 1000 : 0;
    const phases: Partial<Record<Exclude<Phase, 'gc'>, number>> = {
      pre: m.decideStart - t0,
      decide: m.decideEnd - m.decideStart - cardMs,
      ...(timedCard ? { card: cardMs } : {}),
      mid: m.appendStart - m.decideEnd,
      append: m.appendEnd - m.appendStart,
      post: t1 - m.appendEnd,
    };
    for (const [phase, ms] of Object.entries(phases)) this.add(`phase.${kind}.${phase}`, ms! * 1000);
    this.add(`phase.${kind}.total`, (t1 - t0) * 1000);
    this.taps.push({ kind, t0, t1 });
    return (t1 - t0) * 1000;
  }

  /** GC time inside each tap; call once the run is over (observer entries arrive late). */
  async finish(): Promise<void> {
    await new Promise((r) => setTimeout(r, 50));
    this.observer.disconnect();
    const gcs = [...this.gcs].sort((a, b) => a.startTime - b.startTime);
    let taps = 0;
    for (const tap of this.taps) {
      let inside = 0;
      for (const gc of gcs) {
        if (gc.startTime >= tap.t1) break;
        inside += Math.max(0, Math.min(tap.t1, gc.startTime + gc.duration) - Math.max(tap.t0, gc.startTime));
      }
      if (inside > 0) taps++;
      this.add(`phase.${tap.kind}.gc`, inside * 1000);
    }
    this.gcTaps = taps;
  }

  gcTaps = 0;

  tapCount(): number {
    return this.taps.length;
  }

  private add(name: string, us: number): void {
    const list = this.samples.get(name) ?? [];
    list.push(us);
    this.samples.set(name, list);
  }
}

function phaseCases(g: BenchGate, probe: PhaseProbe): BenchCase[] {
  let i = 0;
  return [
    {
      name: 'gate.code.issuer',
      measure() {
        const text = g.issuer.issuerCode({ sub: `acct-p-${i++ % 1000}`, iat: nowSec(g) });
        return probe.tap('code.issuer', g, () => g.gate.presentCode(text));
      },
    },
    {
      name: 'gate.code.holder',
      measure() {
        const text = g.holder.offlineCode(nowSec(g));
        return probe.tap('code.holder', g, () => g.gate.presentCode(text));
      },
    },
    {
      name: 'gate.card',
      measure() {
        const channel = new BenchCardChannel(g.card);
        return probe.tap('card', g, () => g.gate.presentCard(channel));
      },
    },
  ];
}

/** The bank-card gate's own taps, one case per fDDA algorithm, the simulated card's time apart. */
function bankPhaseCases(g: BankBenchGate, probe: PhaseProbe): BenchCase[] {
  return (['rsa', 'sm2'] as const).map((algorithm) => ({
    name: `gate.card.qpboc.${algorithm}`,
    measure() {
      const channel = new BenchCardChannel(g.bankCards[algorithm], true);
      return probe.tap(`card.qpboc.${algorithm}`, g, () => g.gate.presentCard(channel), channel);
    },
  }));
}

/** Pieces of the code path, each alone. */
function codePieces(g: BenchGate): BenchCase[] {
  const text = g.issuer.issuerCode({ sub: 'acct-x', iat: nowSec(g) });
  const body = text.slice(4);
  const bytes = decodeBase45(body);
  const sign1 = parseCoseSign1(bytes, 'required', 'code');
  const cardKey = makeKeyPair('ES256');
  const challenge = new Uint8Array(16 + 12);
  return [
    { name: 'part.base45.decode', measure: () => { const t0 = performance.now(); decodeBase45(body); return us(t0, performance.now()); } },
    { name: 'part.cose.parse', measure: () => { const t0 = performance.now(); parseCoseSign1(bytes, 'required', 'code'); return us(t0, performance.now()); } },
    { name: 'part.cose.toBeSigned', measure: () => { const t0 = performance.now(); toBeSigned(sign1); return us(t0, performance.now()); } },
    { name: 'part.sim.card.sign.es256', measure: () => { const t0 = performance.now(); signBytes(cardKey, challenge); return us(t0, performance.now()); } },
    { name: 'part.uuidv7', measure: () => { const t0 = performance.now(); uuidv7(); return us(t0, performance.now()); } },
  ];
}

function draftOf(i: number): TapDraft {
  return {
    at: new Date().toISOString(),
    mode: 'metro-entry',
    kind: 'code',
    issuer: 'cq.yukuaima',
    subject: `acct-${i % 1000}`,
    category: 'adult',
    result: 'accepted',
    reason: 'ok',
    fare: 200,
    product: null,
    latencyMs: 0.42,
    place: null,
    emv: null,
  };
}

/** Journal.append on its own journal file, with and without the used-credential row. */
function journalCases(dir: string): { cases: BenchCase[]; close(): void } {
  const journal = Journal.open(join(dir, 'parts-journal.db'), 'GATE-PARTS', 'site-bench');
  const bare = Journal.open(join(dir, 'parts-journal-bare.db'), 'GATE-PARTS', 'site-bench');
  let i = 0;
  // The same schema, driven by hand to split the row inserts from the COMMIT.
  const db = new Database(join(dir, 'parts-split.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(MIGRATIONS[0]!);
  const insertTap = db.prepare(
    `INSERT INTO taps (seq, id, at, gate, site, mode, kind, issuer, subject, category, result, reason, fare, product, latency_ms)
     VALUES (@seq, @id, @at, @gate, @site, @mode, @kind, @issuer, @subject, @category, @result, @reason, @fare, @product, @latencyMs)`,
  );
  const insertUsed = db.prepare('INSERT OR REPLACE INTO used_credentials (key, until_ms) VALUES (?, ?)');
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  let seq = 0;
  let pendingCommit = false;
  return {
    cases: [
      {
        name: 'part.journal.append',
        measure() {
          const draft = draftOf(i++);
          const used = { key: `cti:cq.yukuaima:${uuidv7()}`, until: Date.now() + 150_000 };
          const t0 = performance.now();
          journal.append(draft, used);
          return us(t0, performance.now());
        },
      },
      {
        name: 'part.journal.append.noUsed',
        measure() {
          const draft = draftOf(i++);
          const t0 = performance.now();
          bare.append(draft);
          return us(t0, performance.now());
        },
      },
      {
        name: 'part.journal.split.inserts',
        measure() {
          const row = { ...draftOf(i++), seq: ++seq, id: uuidv7(), gate: 'GATE-PARTS', site: 'site-bench' };
          const t0 = performance.now();
          begin.run();
          insertTap.run(row);
          insertUsed.run(`cti:cq.yukuaima:${row.id}`, Date.now() + 150_000);
          const t1 = performance.now();
          pendingCommit = true;
          return us(t0, t1);
        },
      },
      {
        name: 'part.journal.split.commit',
        measure() {
          if (!pendingCommit) {
            const row = { ...draftOf(i++), seq: ++seq, id: uuidv7(), gate: 'GATE-PARTS', site: 'site-bench' };
            begin.run();
            insertTap.run(row);
            insertUsed.run(`cti:cq.yukuaima:${row.id}`, Date.now() + 150_000);
          }
          const t0 = performance.now();
          commit.run();
          const t1 = performance.now();
          pendingCommit = false;
          return us(t0, t1);
        },
      },
    ],
    close() {
      journal.close();
      bare.close();
      db.close();
    },
  };
}

async function main(): Promise<void> {
  const n = Number(process.env.BENCH_N || 2000);
  const base = resolve(process.env.BENCH_DIR || tmpdir());
  const dir = mkdtempSync(join(base, 'citygate-parts-'));
  try {
    const g = await benchGate(dir);
    const bank = await bankGate(dir);
    const journal = journalCases(dir);
    const commit = commitCase(dir);
    // split.inserts and split.commit must alternate one to one: a case of their own.
    const [append, appendBare, inserts, commitPart] = journal.cases as [BenchCase, BenchCase, BenchCase, BenchCase];
    const insertSamples: number[] = [];
    const split: BenchCase = {
      name: 'part.journal.split.commit',
      async measure() {
        insertSamples.push(await inserts.measure());
        return commitPart.measure();
      },
    };
    const probe = new PhaseProbe(g);
    const bankProbe = new PhaseProbe(bank);
    const cases = [...phaseCases(g, probe), ...bankPhaseCases(bank, bankProbe), ...decideCases(g), ...codePieces(g), append, appendBare, split, verifyCase('ES256'), commit];
    const samples = await runInterleaved(cases, { warmup: 200, n, chunk: 25 });
    await probe.finish();
    await bankProbe.finish();
    samples.set('part.journal.split.inserts', insertSamples.slice(-n));
    // Phases of the measured taps only, warm-up left out.
    for (const [name, s] of [...probe.samples, ...bankProbe.samples]) samples.set(name, s.slice(-n));
    for (const name of [...samples.keys()].filter((k) => k.startsWith('gate.'))) samples.delete(name);
    for (const [name, s] of [...samples].sort(([a], [b]) => (a.startsWith('phase.') === b.startsWith('phase.') ? 0 : a.startsWith('phase.') ? -1 : 1))) {
      const x = summarise(s);
      process.stdout.write(`${JSON.stringify({ name, unit: 'us', n: x.n, p50: round1(x.p50), p99: round1(x.p99), mean: round1(x.mean), max: round1(x.max) })}\n`);
    }
    process.stdout.write(`${JSON.stringify({ name: 'phase.gc.taps', unit: 'count', value: probe.gcTaps + bankProbe.gcTaps, of: probe.tapCount() + bankProbe.tapCount() })}\n`);
    await g.close();
    await bank.close();
    journal.close();
    commit.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`parts: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
