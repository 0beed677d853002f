/*
 * Deny-list store at city scale: 10M entries across three issuers (8M,
 * 1.5M, 0.5M), built as snapshots in parts of 100k, on a real SQLite file.
 *
 *   node dist/bench/denyList.js          # prints one JSON figure per line
 *
 * Figures: denylist.lookup (us per isDenied, half listed, half not; a miss
 * with a code id probes twice, as the Decider asks), denylist.apply.100k (us
 * per delta of 100k adds onto the 8M list; the 8th run folds the deltas into
 * the chunks), denylist.coldstart.10M (open() to ready, ms, each run in a
 * fresh process: the first after dropping the file from the page cache, the
 * others warm), denylist.rss.10M (MB over the process's baseline after
 * open(), with heapUsed and arrayBuffers), denylist.disk.10M (MB).
 * Env: BENCH_DIR (os.tmpdir()), BENCH_DENYLIST_N (10,000,000).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DENY_LIST_FILE, DenyListStore } from '../src/core/denylist/denyListStore.js';
import { round1, round3, summarise } from './stats.js';

const PART = 100_000;
const LOOKUPS = 200_000;
const APPLY_RUNS = 8;
const WARM_STARTS = 3;

/** Issuers and their share of the entries. */
const SHARES: readonly [string, number][] = [
  ['cq.yukuaima', 0.8],
  ['sc.tianfu', 0.15],
  ['cq.metro', 0.05],
];

/** Entry i of an issuer: one in ten is a code id, the rest card numbers. */
function entry(i: number): string {
  return i % 10 === 0 ? `cti:${(Math.imul(i, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0')}${i.toString(16).padStart(8, '0')}` : `CARD-${i.toString().padStart(10, '0')}`;
}

type Figure = { name: string; unit: string; [field: string]: unknown };

function usFigure(name: string, samples: number[], extra: object = {}): Figure {
  const s = summarise(samples);
  return { name, unit: 'us', n: s.n, p50: round1(s.p50), p99: round1(s.p99), mean: round1(s.mean), min: round1(s.min), max: round1(s.max), ...extra };
}

function build(store: DenyListStore, total: number): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const [issuer, share] of SHARES) {
    const size = Math.round(total * share);
    const parts = Math.max(1, Math.ceil(size / PART));
    for (let p = 0; p < parts; p++) {
      const add: string[] = [];
      for (let i = p * PART; i < Math.min(size, (p + 1) * PART); i++) add.push(entry(i));
      store.apply({ issuer, seq: 1, base: 0, add, remove: [], issuedAt: 0, part: { index: p + 1, count: parts } });
    }
    sizes.set(issuer, size);
  }
  return sizes;
}

function lookups(store: DenyListStore, sizes: Map<string, number>): Figure {
  const issuers = [...sizes.keys()];
  const queries = Array.from({ length: LOOKUPS }, (_, q) => {
    const issuer = issuers[q % issuers.length]!;
    const i = Math.floor(Math.random() * sizes.get(issuer)!);
    if (q % 2 === 1) return { issuer, subject: `CARD-X${q}`, cti: `ffff${q.toString(16).padStart(12, '0')}`, listed: false };
    const listed = entry(i);
    return listed.startsWith('cti:') ? { issuer, subject: `acct-${q}`, cti: listed.slice(4), listed: true } : { issuer, subject: listed, cti: undefined, listed: true };
  });
  for (let w = 0; w < 2; w++) for (const q of queries) store.isDenied(q.issuer, q.subject, q.cti);
  const samples = new Array<number>(queries.length);
  for (let k = 0; k < queries.length; k++) {
    const q = queries[k]!;
    const t0 = performance.now();
    const denied = store.isDenied(q.issuer, q.subject, q.cti);
    samples[k] = (performance.now() - t0) * 1000;
    if (denied !== q.listed) throw new Error(`lookup of ${q.subject}/${q.cti ?? '-'} gave ${denied}`);
  }
  return usFigure('denylist.lookup', samples, { entries: store.size(), note: 'half listed, half not (misses carry a code id: two probes); includes performance.now() overhead' });
}

function applies(store: DenyListStore, issuer: string): Figure {
  const samples: number[] = [];
  for (let run = 0; run < APPLY_RUNS; run++) {
    const add = Array.from({ length: PART }, (_, i) => `NEW-${run}-${i}`);
    const seq = store.seq(issuer);
    const t0 = performance.now();
    const result = store.apply({ issuer, seq: seq + 1, base: seq, add, remove: [], issuedAt: 0 });
    samples.push((performance.now() - t0) * 1000);
    if (result.status !== 'applied') throw new Error(`delta ${seq + 1} was ${result.status}`);
  }
  return usFigure('denylist.apply.100k', samples, { onto: store.size(issuer) - APPLY_RUNS * PART, runs: samples.map((s) => round1(s / 1000)), note: `ms per run in runs; run ${APPLY_RUNS} also folds the ${APPLY_RUNS} deltas into the chunks` });
}

/** The page-cache state of a file, per fincore (util-linux), if it is there. */
function cachedMB(file: string): number | undefined {
  try {
    const bytes = Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());
    return Number.isFinite(bytes) ? round1(bytes / 2 ** 20) : undefined;
  } catch {
    return undefined;
  }
}

/** Asks the kernel to drop the file's cached pages (GNU dd iflag=nocache: posix_fadvise DONTNEED). */
function dropFromCache(file: string): void {
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

interface ColdStart {
  openMs: number;
  rssMB: number;
  heapUsedMB: number;
  arrayBuffersMB: number;
  entries: number;
}

/** In a fresh process: open() to ready, and what it costs in memory. */
function coldStart(dir: string, env: NodeJS.ProcessEnv = process.env): ColdStart {
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--coldstart', dir], { encoding: 'utf8', env });
  if (child.status !== 0) throw new Error(`cold start child failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as ColdStart;
}

/** A full GC, then a pause: V8 frees the backing stores of dead ArrayBuffers on another thread. */
async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((done) => setTimeout(done, 200));
  }
}

async function measureColdStart(dir: string): Promise<void> {
  await settle();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const store = DenyListStore.open(dir);
  const openMs = performance.now() - t0;
  await settle();
  const after = process.memoryUsage();
  const result: ColdStart = {
    openMs,
    rssMB: (after.rss - before.rss) / 2 ** 20,
    heapUsedMB: (after.heapUsed - before.heapUsed) / 2 ** 20,
    arrayBuffersMB: (after.arrayBuffers - before.arrayBuffers) / 2 ** 20,
    entries: store.size(),
  };
  store.close();
  process.stdout.write(JSON.stringify(result));
}

function disk(dir: string, entries: number): Figure {
  const file = join(dir, DENY_LIST_FILE);
  const db = new Database(file, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const used = ((db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number)) * pageSize;
  db.close();
  return { name: 'denylist.disk.10M', unit: 'MB', value: round1(statSync(file).size / 2 ** 20), usedMB: round1(used / 2 ** 20), bytesPerEntry: round3(used / entries), note: 'file size (free pages left by the last snapshot staging are reused by the next); usedMB excludes them' };
}

export async function denyListBench(baseDir = resolve(process.env.BENCH_DIR || tmpdir())): Promise<Figure[]> {
  const total = Number(process.env.BENCH_DENYLIST_N || 10_000_000);
  const dir = mkdtempSync(join(baseDir, 'citygate-denylist-bench-'));
  const figures: Figure[] = [];
  try {
    let store = DenyListStore.open(dir);
    const t0 = performance.now();
    const sizes = build(store, total);
    figures.push({ name: 'denylist.build.10M', unit: 'ms', value: Math.round(performance.now() - t0), entries: store.size(), note: 'snapshots in parts of 100k, from strings' });
    store.close();
    figures.push(disk(dir, total));

    const file = join(dir, DENY_LIST_FILE);
    dropFromCache(file);
    const cachedBefore = cachedMB(file);
    const cold = coldStart(dir);
    const warm = Array.from({ length: WARM_STARTS }, () => coldStart(dir));
    figures.push({
      name: 'denylist.coldstart.10M',
      unit: 'ms',
      value: round1(Math.max(...warm.map((w) => w.openMs))),
      warmRuns: warm.map((w) => round1(w.openMs)),
      uncachedRun: round1(cold.openMs),
      cachedMBBeforeUncachedRun: cachedBefore ?? 'unknown (no fincore)',
      entries: cold.entries,
      note: 'open() to ready in a fresh process; value = slowest warm run (file in the page cache); uncachedRun = after dropping the file from the page cache',
    });
    const last = warm[warm.length - 1]!;
    // glibc keeps freed blob buffers below its (dynamic) mmap threshold in its heap; a fixed threshold returns them.
    const fixed = coldStart(dir, { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' });
    figures.push({
      name: 'denylist.rss.10M',
      unit: 'MB',
      value: round1(last.rssMB),
      heapUsedMB: round1(last.heapUsedMB),
      arrayBuffersMB: round1(last.arrayBuffersMB),
      rssMBWithFixedMmapThreshold: round1(fixed.rssMB),
      entries: last.entries,
      note: 'process RSS after open() minus before, both after a GC has settled; rssMBWithFixedMmapThreshold: the same with MALLOC_MMAP_THRESHOLD_=131072',
    });

    store = DenyListStore.open(dir);
    figures.push(lookups(store, sizes));
    figures.push(applies(store, SHARES[0]![0]));
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--coldstart') {
    await measureColdStart(process.argv[3]!);
  } else {
    denyListBench()
      .then((figures) => {
        for (const f of figures) process.stdout.write(`${JSON.stringify(f)}\n`);
      })
      .catch((error: unknown) => {
        process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
        process.exit(1);
      });
  }
}
