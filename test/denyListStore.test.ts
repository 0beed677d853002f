import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DENY_LIST_FILE, DenyListStore, DenyListStoreError, DenyListUpdateError, type DenyListStoreOptions } from '../src/core/denylist/denyListStore.js';
import type { ApplyResult, DenyListUpdate } from '../src/core/denylist/denyListUpdate.js';
import type { Log } from '../src/core/log.js';
import { CRASH_ISSUER, CRASH_OPTIONS, crashPlan } from './support/denyListCrash.mjs';

let dir: string;
const opened: DenyListStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-denylist-'));
});
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(options?: DenyListStoreOptions, at = dir): DenyListStore {
  const store = DenyListStore.open(at, options);
  opened.push(store);
  return store;
}

function reopen(store: DenyListStore, options?: DenyListStoreOptions, at = dir): DenyListStore {
  store.close();
  return open(options, at);
}

function update(issuer: string, seq: number, base: number, add: string[], remove: string[] = [], part?: [number, number]): DenyListUpdate {
  return { issuer, seq, base, add, remove, issuedAt: 1_800_000_000, ...(part ? { part: { index: part[0], count: part[1] } } : {}) };
}

/** Whether the store lists `entry` (a subject, or `cti:<hex>`) for `issuer`, asked as the Decider asks. */
function lists(store: DenyListStore, issuer: string, entry: string): boolean {
  return entry.startsWith('cti:') ? store.isDenied(issuer, 'someone-else', entry.slice(4)) : store.isDenied(issuer, entry, undefined);
}

function recordingLog(): Log & { lines: { level: string; message: string; fields: object }[] } {
  const lines: { level: string; message: string; fields: object }[] = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, message, fields });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** The rules of docs/sync.md over plain Sets: what the store must agree with. */
class Model {
  readonly seqs = new Map<string, number>();
  readonly sets = new Map<string, Set<string>>();
  private readonly staging = new Map<string, { seq: number; count: number; parts: Map<number, readonly string[]> }>();

  held(issuer: string): number {
    return this.seqs.get(issuer) ?? 0;
  }

  apply(u: DenyListUpdate): ApplyResult {
    const held = this.held(u.issuer);
    if (u.seq <= held) return { status: 'ignored', held };
    if (u.base !== 0 && u.base !== held) return { status: 'gap', held };
    if (u.base !== 0) {
      const set = this.sets.get(u.issuer)!;
      for (const e of u.remove) set.delete(e);
      for (const e of u.add) set.add(e);
      return this.advance(u.issuer, u.seq, set);
    }
    if (u.part && u.part.count > 1) {
      let staged = this.staging.get(u.issuer);
      if (staged && staged.seq > u.seq) return { status: 'ignored', held };
      if (!staged || staged.seq < u.seq) this.staging.set(u.issuer, (staged = { seq: u.seq, count: u.part.count, parts: new Map() }));
      if (!staged.parts.has(u.part.index)) staged.parts.set(u.part.index, u.add);
      if (staged.parts.size < staged.count) return { status: 'staged', seq: u.seq, have: staged.parts.size, of: staged.count };
      return this.advance(u.issuer, u.seq, new Set([...staged.parts.values()].flat()));
    }
    return this.advance(u.issuer, u.seq, new Set(u.add));
  }

  private advance(issuer: string, seq: number, set: Set<string>): ApplyResult {
    this.seqs.set(issuer, seq);
    this.sets.set(issuer, set);
    const staged = this.staging.get(issuer);
    if (staged && staged.seq <= seq) this.staging.delete(issuer);
    return { status: 'applied', seq };
  }
}

function expectAgrees(store: DenyListStore, model: Model, issuers: readonly string[], universe: readonly string[]): void {
  expect(store.seqs()).toEqual(Object.fromEntries(model.seqs));
  for (const issuer of issuers) {
    const set = model.sets.get(issuer) ?? new Set<string>();
    expect(store.size(issuer)).toBe(set.size);
    const wrong = universe.filter((e) => lists(store, issuer, e) !== set.has(e));
    expect(wrong).toEqual([]);
  }
}

describe('deny-list store: updates', () => {
  it('applies a snapshot: subjects and code ids of that issuer only', () => {
    const store = open();
    expect(store.apply(update('cq.yukuaima', 3, 0, ['CARD-1', 'acct-7', 'cti:0a1b']))).toEqual({ status: 'applied', seq: 3 });
    expect(store.isDenied('cq.yukuaima', 'CARD-1', undefined)).toBe(true);
    expect(store.isDenied('cq.yukuaima', 'acct-7', 'ffff')).toBe(true);
    expect(store.isDenied('cq.yukuaima', 'acct-8', '0a1b')).toBe(true);
    expect(store.isDenied('cq.yukuaima', 'acct-8', '0a1c')).toBe(false);
    expect(store.isDenied('cq.yukuaima', 'CARD-2', undefined)).toBe(false);
    expect(store.isDenied('sc.tianfu', 'CARD-1', '0a1b')).toBe(false);
    // A subject that happens to read like a code id is not that code id.
    expect(store.isDenied('cq.yukuaima', '0a1b', undefined)).toBe(false);
    expect(store.seq('cq.yukuaima')).toBe(3);
    expect(store.seq('sc.tianfu')).toBe(0);
    expect(store.size('cq.yukuaima')).toBe(3);
    expect(store.size()).toBe(3);
  });

  it('applies a delta onto the held seq: removes, then adds', () => {
    const store = open();
    store.apply(update('I', 1, 0, ['a', 'b', 'c']));
    expect(store.apply(update('I', 2, 1, ['d', 'd', 'b'], ['a', 'b', 'zz']))).toEqual({ status: 'applied', seq: 2 });
    // 'b' is both removed and added: it stays listed; 'zz' was never listed.
    expect(['a', 'b', 'c', 'd', 'zz'].map((e) => lists(store, 'I', e))).toEqual([false, true, true, true, false]);
    expect(store.size('I')).toBe(3);
  });

  it('ignores replays and rollbacks, and reports a gap without applying it', () => {
    const log = recordingLog();
    const store = open({ log });
    store.apply(update('I', 5, 0, ['a']));
    expect(store.apply(update('I', 5, 4, ['b']))).toEqual({ status: 'ignored', held: 5 });
    expect(store.apply(update('I', 3, 0, ['c']))).toEqual({ status: 'ignored', held: 5 });
    expect(store.apply(update('I', 7, 6, ['d']))).toEqual({ status: 'gap', held: 5 });
    expect(['a', 'b', 'c', 'd'].map((e) => lists(store, 'I', e))).toEqual([true, false, false, false]);
    expect(store.seq('I')).toBe(5);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.fields)).toEqual([{ issuer: 'I', seq: 7, base: 6, held: 5 }]);
    // A delta onto nothing held is a gap too: only a snapshot can start a list.
    expect(store.apply(update('J', 2, 1, ['x']))).toEqual({ status: 'gap', held: 0 });
  });

  it('replaces the whole list with a newer snapshot; a snapshot\'s removes change nothing and are logged', () => {
    const log = recordingLog();
    const store = open({ log });
    store.apply(update('I', 1, 0, ['a', 'b']));
    store.apply(update('I', 2, 1, ['c']));
    expect(store.apply(update('I', 9, 0, ['b', 'x'], ['b', 'c']))).toEqual({ status: 'applied', seq: 9 });
    expect(['a', 'b', 'c', 'x'].map((e) => lists(store, 'I', e))).toEqual([false, true, false, true]);
    expect(log.lines.some((l) => l.level === 'warn' && /removes/.test(l.message))).toBe(true);
    expect(store.apply(update('I', 10, 0, []))).toEqual({ status: 'applied', seq: 10 });
    expect(store.size('I')).toBe(0);
    expect(store.seq('I')).toBe(10);
  });

  it('refuses updates that break the rules, applying nothing', () => {
    const store = open();
    store.apply(update('I', 1, 0, ['a']));
    const broken: DenyListUpdate[] = [
      update('I', 2, 1, ['b'], [], [1, 2]),
      update('I', 2, 0, ['b'], [], [3, 2]),
      update('I', 2, 0, ['b'], [], [0, 2]),
      update('I', 0, 0, ['b']),
      update('I', 2.5, 1, ['b']),
      update('', 2, 1, ['b']),
      { ...update('I', 2, 1, []), add: [7 as unknown as string] },
    ];
    for (const u of broken) expect(() => store.apply(u)).toThrow(DenyListUpdateError);
    expect(store.seq('I')).toBe(1);
    expect(lists(store, 'I', 'b')).toBe(false);
  });
});

describe('deny-list store: snapshots in parts', () => {
  it('stages parts in any order, takes a repeated part once, applies when all are in', () => {
    const store = open();
    store.apply(update('I', 1, 0, ['old']));
    expect(store.apply(update('I', 4, 0, ['c'], [], [3, 3]))).toEqual({ status: 'staged', seq: 4, have: 1, of: 3 });
    expect(store.apply(update('I', 4, 0, ['c'], [], [3, 3]))).toEqual({ status: 'staged', seq: 4, have: 1, of: 3 });
    expect(store.apply(update('I', 4, 0, ['a', 'shared'], [], [1, 3]))).toEqual({ status: 'staged', seq: 4, have: 2, of: 3 });
    // Until the last part, the old list is in force.
    expect(lists(store, 'I', 'old')).toBe(true);
    expect(lists(store, 'I', 'a')).toBe(false);
    expect(store.seq('I')).toBe(1);
    expect(store.apply(update('I', 4, 0, ['b', 'shared'], [], [2, 3]))).toEqual({ status: 'applied', seq: 4 });
    expect(['old', 'a', 'b', 'c', 'shared'].map((e) => lists(store, 'I', e))).toEqual([false, true, true, true, true]);
    expect(store.size('I')).toBe(4);
    // Parts of an applied seq are replays.
    expect(store.apply(update('I', 4, 0, ['z'], [], [1, 3]))).toEqual({ status: 'ignored', held: 4 });
  });

  it('discards the staged parts of an older seq when a newer one starts, and ignores late parts of the older', () => {
    const store = open();
    store.apply(update('I', 5, 0, ['x'], [], [1, 2]));
    expect(store.apply(update('I', 6, 0, ['y'], [], [2, 2]))).toEqual({ status: 'staged', seq: 6, have: 1, of: 2 });
    expect(store.apply(update('I', 5, 0, ['x2'], [], [2, 2]))).toEqual({ status: 'ignored', held: 0 });
    expect(store.apply(update('I', 6, 0, ['z'], [], [1, 2]))).toEqual({ status: 'applied', seq: 6 });
    expect(['x', 'x2', 'y', 'z'].map((e) => lists(store, 'I', e))).toEqual([false, false, true, true]);
  });

  it('refuses a part whose count differs from the staged parts of its seq', () => {
    const store = open();
    store.apply(update('I', 2, 0, ['a'], [], [1, 3]));
    expect(() => store.apply(update('I', 2, 0, ['b'], [], [2, 4]))).toThrow(DenyListUpdateError);
    expect(store.apply(update('I', 2, 0, ['b'], [], [2, 3]))).toEqual({ status: 'staged', seq: 2, have: 2, of: 3 });
  });

  it('drops staged parts that a delta or a whole snapshot has overtaken', () => {
    const store = open();
    store.apply(update('I', 1, 0, ['a']));
    store.apply(update('I', 3, 0, ['p1'], [], [1, 2]));
    store.apply(update('I', 2, 1, ['b']));
    store.apply(update('I', 3, 2, ['c']));
    // The staged seq-3 parts are stale now: a new seq-4 snapshot must not mix with them.
    expect(store.apply(update('I', 4, 0, ['q1'], [], [1, 2]))).toEqual({ status: 'staged', seq: 4, have: 1, of: 2 });
    expect(store.apply(update('I', 4, 0, ['q2'], [], [2, 2]))).toEqual({ status: 'applied', seq: 4 });
    expect(['a', 'b', 'c', 'p1', 'q1', 'q2'].map((e) => lists(store, 'I', e))).toEqual([false, false, false, false, true, true]);
    store.apply(update('I', 6, 0, ['r1'], [], [1, 2]));
    store.apply(update('I', 5, 4, ['d']));
    store.apply(update('I', 6, 5, ['e']));
    store.close();
    // Nothing overtaken stays on disk.
    const db = new Database(join(dir, DENY_LIST_FILE), { readonly: true });
    expect(db.prepare('SELECT (SELECT count(*) FROM staging) + (SELECT count(*) FROM staged_parts) AS n').get()).toEqual({ n: 0 });
    db.close();
  });

  it('keeps staged parts across a restart', () => {
    let store = open();
    store.apply(update('I', 2, 0, ['a'], [], [1, 2]));
    store = reopen(store);
    expect(store.seq('I')).toBe(0);
    expect(store.apply(update('I', 2, 0, ['b'], [], [2, 2]))).toEqual({ status: 'applied', seq: 2 });
    expect(['a', 'b'].map((e) => lists(store, 'I', e))).toEqual([true, true]);
  });
});

describe('deny-list store: on disk', () => {
  it('runs SQLite in WAL mode with synchronous=FULL', () => {
    const store = open();
    const db = (store as unknown as { db: Database.Database }).db;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('answers the same after a restart, with deltas pending and after folding them', () => {
    const universe = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? `cti:${i.toString(16)}` : `C-${i}`));
    const model = new Model();
    let store = open({ compactAfterUpdates: 3 });
    const updates = [update('A', 1, 0, universe.slice(0, 1500)), update('B', 1, 0, universe.slice(1000, 2000))];
    for (let seq = 2; seq <= 6; seq++) updates.push(update('A', seq, seq - 1, universe.slice(seq * 300, seq * 300 + 400), universe.slice(seq * 200, seq * 200 + 250)));
    for (const u of updates) {
      expect(store.apply(u)).toEqual(model.apply(u));
      expectAgrees(store, model, ['A', 'B'], universe);
      store = reopen(store, { compactAfterUpdates: 3 });
      expectAgrees(store, model, ['A', 'B'], universe);
    }
    const db = new Database(join(dir, DENY_LIST_FILE), { readonly: true });
    store.close();
    expect(db.prepare("SELECT count(*) AS n FROM deltas WHERE issuer = 'A'").get()).toEqual({ n: 2 });
    db.close();
  });

  it('drops an issuer whose list is damaged on disk, so that the next update asks for a resync', () => {
    const log = recordingLog();
    let store = open({ log });
    store.apply(update('A', 4, 0, ['a1', 'a2']));
    store.apply(update('A', 5, 4, ['a3']));
    store.apply(update('B', 2, 0, ['b1']));
    store.close();
    const db = new Database(join(dir, DENY_LIST_FILE));
    db.prepare("UPDATE chunks SET hashes = zeroblob(length(hashes)) WHERE issuer = 'A'").run();
    db.close();
    store = open({ log });
    expect(log.lines.filter((l) => l.level === 'error').map((l) => l.fields)).toEqual([{ issuer: 'A', problem: 'chunk 0 fails its checksum' }]);
    expect(store.seqs()).toEqual({ B: 2 });
    expect(lists(store, 'A', 'a1')).toBe(false);
    expect(lists(store, 'B', 'b1')).toBe(true);
    expect(store.apply(update('A', 6, 5, ['a4']))).toEqual({ status: 'gap', held: 0 });
    expect(store.apply(update('A', 6, 0, ['a1']))).toEqual({ status: 'applied', seq: 6 });
    store = reopen(store, { log });
    expect(store.seqs()).toEqual({ A: 6, B: 2 });
    expect(lists(store, 'A', 'a1')).toBe(true);
  });

  it('drops an issuer whose pending delta is damaged', () => {
    const log = recordingLog();
    let store = open({ log });
    store.apply(update('A', 1, 0, ['a1']));
    store.apply(update('A', 2, 1, ['a2']));
    store.close();
    const db = new Database(join(dir, DENY_LIST_FILE));
    db.prepare("UPDATE deltas SET crc = crc + 1 WHERE issuer = 'A'").run();
    db.close();
    store = open({ log });
    expect(store.seq('A')).toBe(0);
    expect(log.lines.filter((l) => l.level === 'error').map((l) => l.fields)).toEqual([{ issuer: 'A', problem: 'delta 2 fails its checksum' }]);
  });

  it('says why it cannot open: in use, not a directory, not its database', () => {
    open();
    expect(() => DenyListStore.open(dir)).toThrow(/in use by another process/);
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    expect(() => DenyListStore.open(file)).toThrow(DenyListStoreError);
    const other = join(dir, 'other');
    DenyListStore.open(other).close();
    const db = new Database(join(other, DENY_LIST_FILE));
    db.prepare("UPDATE meta SET value = 'another-hash' WHERE key = 'hash'").run();
    db.close();
    expect(() => DenyListStore.open(other)).toThrow(/hashed with another-hash/);
    const garbage = join(dir, 'garbage');
    DenyListStore.open(garbage).close();
    writeFileSync(join(garbage, DENY_LIST_FILE), Buffer.alloc(70_000, 0x5a));
    expect(() => DenyListStore.open(garbage)).toThrow(/damaged; move it aside/);
  });
});

describe('deny-list store: crash', () => {
  const CHILD = new URL('./support/denyListCrash.mjs', import.meta.url).pathname;
  const plan = crashPlan() as DenyListUpdate[];

  /** Runs the child in `at`; with a kill, SIGKILLs it `delayMs` after it announces update `index`. Resolves with its stdout. */
  function runChild(at: string, kill?: { index: number; delayMs: number }): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CHILD, at], { stdio: ['pipe', 'pipe', 'pipe'] });
      // Without a kill to come, the child may end once it is through.
      if (kill === undefined) child.stdin.end();
      let out = '';
      let err = '';
      let armed = false;
      child.stdout.on('data', (data: Buffer) => {
        out += data.toString();
        if (kill === undefined || armed || !out.includes(`start ${kill.index}\n`)) return;
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      });
      child.stderr.on('data', (data: Buffer) => (err += data.toString()));
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        const expected = kill === undefined ? code === 0 : signal === 'SIGKILL';
        if (expected) resolve(out);
        else reject(new Error(`child ended with ${signal ?? code}: ${err || out}`));
      });
    });
  }

  /** How long each update takes in the child, from one run without a kill. */
  let durations: number[] = [];
  beforeAll(async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'citygate-denylist-dry-'));
    try {
      const out = await runChild(scratch);
      durations = [...out.matchAll(/^done (\d+) ([\d.]+)$/gm)].map((m) => Number(m[2]));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  function modelUpTo(seq: number): Model {
    const model = new Model();
    for (const u of plan) if (u.seq <= seq) model.apply(u);
    return model;
  }

  const universe = [...new Set(plan.flatMap((u) => [...u.add, ...u.remove]))];

  // [index into the plan, when within its run]: the part that completes the snapshot, a delta,
  // a delta that then folds the deltas into chunks (compaction), the last delta. Where the kill
  // lands is up to the scheduler (a late one falls on a later update); wherever it lands, the
  // store must hold exactly the list after some update, none before the one announced.
  it.each([
    [1, 0],
    [1, 0.8],
    [2, 0.5],
    [3, 0],
    [3, 0.6],
    [3, 0.9],
    [plan.length - 1, 0.5],
  ])('a SIGKILL at update %i (at %f of its run) leaves the list of one update, then the rest applies', async (index, fraction) => {
    const at = join(dir, `kill-${index}`);
    await runChild(at, { index, delayMs: fraction * durations[index]! });
    let store = open(CRASH_OPTIONS, at);
    const before = index === 1 ? 0 : plan[index - 1]!.seq;
    const held = store.seq(CRASH_ISSUER);
    expect(held).toBeGreaterThanOrEqual(before);
    expect([0, ...plan.map((u) => u.seq)]).toContain(held);
    expectAgrees(store, modelUpTo(held), held === 0 ? [] : [CRASH_ISSUER], held === 0 ? [] : universe);
    for (const u of plan) if (u.seq > held) store.apply(u);
    store = reopen(store, CRASH_OPTIONS, at);
    const last = plan[plan.length - 1]!.seq;
    expect(store.seq(CRASH_ISSUER)).toBe(last);
    expectAgrees(store, modelUpTo(last), [CRASH_ISSUER], universe);
  });
});

describe('deny-list store: against a model', () => {
  const ISSUERS = ['A', 'B'] as const;
  const UNIVERSE = [...Array.from({ length: 10 }, (_, i) => `s${i}`), 'cti:00', 'cti:0a', 'cti:ff01'];
  const entries = fc.array(fc.constantFrom(...UNIVERSE), { maxLength: 6 });
  const issuer = fc.constantFrom(...ISSUERS);
  const step = fc.oneof(
    fc.record({ kind: fc.constant('snapshot' as const), issuer, ahead: fc.integer({ min: -1, max: 2 }), add: entries, remove: fc.array(fc.constantFrom(...UNIVERSE), { maxLength: 2 }) }),
    fc.record({ kind: fc.constant('delta' as const), issuer, ahead: fc.integer({ min: -1, max: 2 }), skew: fc.constantFrom(0, 0, 0, -1, 1), add: entries, remove: entries }),
    fc.record({ kind: fc.constant('part' as const), issuer, ahead: fc.integer({ min: 0, max: 2 }), index: fc.integer({ min: 1, max: 3 }), add: entries }),
    fc.record({ kind: fc.constant('reopen' as const) }),
  );

  it('agrees with plain Sets over random updates, restarts included', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        const at = join(dir, `run-${run++}`);
        const options = { compactAfterUpdates: 2 };
        const model = new Model();
        let store = open(options, at);
        for (const s of steps) {
          if (s.kind === 'reopen') {
            store = reopen(store, options, at);
          } else {
            const held = model.held(s.issuer);
            const seq = Math.max(1, held + s.ahead);
            const u =
              s.kind === 'snapshot'
                ? update(s.issuer, seq, 0, s.add, s.remove)
                : s.kind === 'delta'
                  ? update(s.issuer, seq, Math.max(0, held + s.skew), s.add, s.remove)
                  : update(s.issuer, seq, 0, s.add, [], [Math.min(s.index, 2 + (seq % 2)), 2 + (seq % 2)]);
            expect(store.apply(u)).toEqual(model.apply(u));
          }
          expectAgrees(store, model, ISSUERS, UNIVERSE);
        }
        store.close();
      }),
      { numRuns: 60 },
    );
  });
});
