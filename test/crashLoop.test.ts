import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCrashLoop } from '../faults/crash/crashLoop.js';
import { CI_CRASH_LOOP } from '../faults/crash/sizes.js';
import type { SubjectKind } from '../faults/crash/ledger.js';
import { loadEvidence, verifyGate } from '../faults/crash/verifier.js';
import { TapStore } from '../provisioning/collector/tapStore.js';
import { Journal } from '../src/core/journal.js';
import type { Tap, TapDraft } from '../src/core/tap.js';

/*
 * The crash loop of issue 7 at CI size: the real daemon on two simulated
 * lanes, SIGKILLed 200 times at random moments with codes streaming and the
 * upload running, then checked against the reference collector. And the
 * verifier itself, shown failing on doctored stores, so that an empty list
 * of problems means something.
 */

const GATE = 'VERIFY-GATE';
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function draft(subject: string | null, result: Tap['result'], reason: Tap['reason']): TapDraft {
  return { at: new Date().toISOString(), mode: 'metro-entry', kind: 'code', issuer: subject === null ? null : 'crash.city', subject, category: subject === null ? null : 'adult', result, reason, fare: result === 'accepted' ? 200 : null, product: null, latencyMs: 1.5, place: null };
}

/** A small honest history: a journal, the same taps at the collector, and what the daemon logged. */
function honestStores() {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-crash-verify-'));
  dirs.push(dir);
  const journalPath = join(dir, 'journal.db');
  const collectorDb = join(dir, 'collector.db');
  const journal = Journal.open(journalPath, GATE, 'verify-site');
  const taps = [
    journal.append(draft('sub-a', 'accepted', 'ok'), { key: 'cti:aa', until: Date.now() + 60_000 }),
    journal.append(draft('sub-a', 'refused', 'replayed')),
    journal.append(draft('sub-b', 'accepted', 'ok'), { key: 'cti:bb', until: Date.now() + 60_000 }),
    journal.append(draft(null, 'refused', 'malformed')),
    journal.append(draft('deny-1-1', 'refused', 'deny-listed')),
    journal.append(draft('sub-c', 'accepted', 'ok'), { key: 'cti:cc', until: Date.now() + 60_000 }),
  ];
  journal.close();
  const store = new TapStore(collectorDb);
  store.storeBatch(GATE, taps, new Date().toISOString());
  store.close();
  const subjects = new Map<string, { kind: SubjectKind; presentations: number }>([
    ['sub-a', { kind: 'valid', presentations: 2 }],
    ['sub-b', { kind: 'valid', presentations: 1 }],
    ['sub-c', { kind: 'valid', presentations: 1 }],
    ['deny-1-1', { kind: 'deny-listed', presentations: 1 }],
  ]);
  const barriers = taps.filter((tap) => tap.result === 'accepted').map(({ seq, id }) => ({ seq, id }));
  return { journalPath, collectorDb, taps, subjects, barriers };
}

function doctor(path: string, sql: string, ...parameters: unknown[]): void {
  const db = new Database(path);
  db.prepare(sql).run(...parameters);
  db.close();
}

describe('crash-loop verifier', () => {
  it('finds nothing wrong with an honest history', () => {
    const s = honestStores();
    const verdict = verifyGate(loadEvidence(GATE, s.journalPath, s.collectorDb, s.taps, s.barriers, s.subjects));
    expect(verdict).toMatchObject({ lost: [], doubleAccepted: [], barrierWithoutRow: [], problems: [], accepted: 3, refused: 3 });
    expect(verdict.checked).toBe(6 + 6 + 3);
  });

  it('reports a seq missing at the collector as a lost tap and a gap', () => {
    const s = honestStores();
    doctor(s.collectorDb, 'DELETE FROM taps WHERE gate = ? AND seq = 3', GATE);
    const verdict = verifyGate(loadEvidence(GATE, s.journalPath, s.collectorDb, s.taps, s.barriers, s.subjects));
    expect(verdict.lost).toContainEqual({ gate: GATE, seq: 3, id: s.taps[2]!.id, missingFrom: 'collector' });
    expect(verdict.problems).toContain(`${GATE} collector: seq 3 missing (a gap)`);
    expect(verdict.barrierWithoutRow).toEqual([{ gate: GATE, seq: 3, id: s.taps[2]!.id, why: 'the collector has no tap with that id' }]);
  });

  it('reports a seq stored under two ids, an id reused in the journal, and a conflicting redelivery', () => {
    const s = honestStores();
    doctor(s.collectorDb, "INSERT INTO taps (id, gate, seq, at, site, mode, kind, issuer, subject, category, result, reason, fare, product, latency_ms, place, received_at) SELECT 'another-id', gate, seq, at, site, mode, kind, issuer, subject, category, result, reason, fare, product, latency_ms, place, received_at FROM taps WHERE seq = 2");
    doctor(s.collectorDb, "INSERT INTO conflicts (id, gate, seq, received_at, tap) VALUES (?, ?, 5, '2025-01-01T00:00:00Z', '{}')", s.taps[4]!.id, GATE);
    doctor(s.journalPath, 'UPDATE taps SET id = ? WHERE seq = 4', s.taps[0]!.id);
    const verdict = verifyGate(loadEvidence(GATE, s.journalPath, s.collectorDb, s.taps, s.barriers, s.subjects));
    expect(verdict.problems).toContain(`${GATE} collector: seq 2 stored under 2 ids (${[s.taps[1]!.id, 'another-id'].sort().join(', ')})`);
    expect(verdict.problems).toContain(`${GATE} journal: id ${s.taps[0]!.id} at seq 1 and 4`);
    expect(verdict.problems).toContain(`${GATE} collector: id ${s.taps[4]!.id} arrived again (seq 5) with other content`);
  });

  it('reports a barrier opened for a seq no store holds, or for a refused row', () => {
    const s = honestStores();
    const barriers = [...s.barriers, { seq: 99, id: 'never-stored' }, { seq: 2, id: s.taps[1]!.id }];
    const verdict = verifyGate(loadEvidence(GATE, s.journalPath, s.collectorDb, s.taps, barriers, s.subjects));
    expect(verdict.barrierWithoutRow).toEqual([
      { gate: GATE, seq: 99, id: 'never-stored', why: 'the journal has no row at seq 99' },
      { gate: GATE, seq: 2, id: s.taps[1]!.id, why: 'the journal row is refused (replayed)' },
    ]);
  });

  it('reports a logged tap that neither store holds, and a gap in the journal', () => {
    const s = honestStores();
    const ghost: Tap = { ...s.taps[5]!, id: 'ghost', seq: 7 };
    doctor(s.journalPath, 'DELETE FROM taps WHERE seq = 4');
    const verdict = verifyGate(loadEvidence(GATE, s.journalPath, s.collectorDb, [...s.taps, ghost], s.barriers, s.subjects));
    expect(verdict.lost).toEqual(expect.arrayContaining([
      { gate: GATE, seq: 7, id: 'ghost', missingFrom: 'journal' },
      { gate: GATE, seq: 7, id: 'ghost', missingFrom: 'collector' },
    ]));
    expect(verdict.problems).toContain(`${GATE} journal: seq 5 where 4 was due (a gap or a reuse)`);
  });

  it('reports a single-use code accepted twice and a deny-listed holder let through', () => {
    const s = honestStores();
    for (const path of [s.journalPath, s.collectorDb]) {
      doctor(path, "UPDATE taps SET result = 'accepted', reason = 'ok' WHERE seq IN (2, 5)");
    }
    const verdict = verifyGate(loadEvidence(GATE, s.journalPath, s.collectorDb, [], [], s.subjects));
    expect(verdict.doubleAccepted).toEqual([{ gate: GATE, subject: 'sub-a', seqs: [1, 2] }]);
    expect(verdict.problems).toContain(`${GATE}: seq 5 (deny-listed code of deny-1-1, tap 1 of 1) was accepted ok`);
  });
});

describe('crash loop: the daemon SIGKILLed at random moments', () => {
  it(
    'catches a gate that loses its journal in a crash',
    async () => {
      // The real daemon, started by a wrapper that deletes the journal first: what a gate on a card that drops its last writes would do, and worse.
      const dir = mkdtempSync(join(tmpdir(), 'citygate-crash-amnesia-'));
      dirs.push(dir);
      const daemon = fileURLToPath(new URL('../dist/bin/citygate.js', import.meta.url));
      const wrapper = join(dir, 'forgetfulDaemon.mjs');
      writeFileSync(
        wrapper,
        `import { readFileSync, rmSync } from 'node:fs';
         const config = JSON.parse(readFileSync(process.argv[4], 'utf8'));
         for (const suffix of ['', '-wal', '-shm']) rmSync(config.paths.state + '/journal.db' + suffix, { force: true });
         await import(${JSON.stringify(daemon)});
        `,
      );
      const figures = await runCrashLoop({ gates: 1, kills: 10, seed: 3, daemonScript: wrapper });
      expect(figures.kills).toBe(10);
      expect(figures.tapsLogged).toBeGreaterThan(0);
      expect(figures.lost.length).toBeGreaterThan(0);
      expect(figures.lost.some((tap) => tap.missingFrom === 'journal')).toBe(true);
      expect(figures.problems.some((problem) => / is not in the journal /.test(problem))).toBe(true);
      // Its seqs start again at 1 and its used codes are forgotten: replays of codes accepted before a kill go through.
      expect(figures.problems.some((problem) => /collector: seq 1 stored under \d+ ids/.test(problem))).toBe(true);
      expect(figures.doubleAccepted.length).toBeGreaterThan(0);
    },
    120_000,
  );

  it(
    'survives 200 kills with every tap at the collector exactly once, gapless, and no code accepted twice',
    async () => {
      const figures = await runCrashLoop(CI_CRASH_LOOP);
      console.log(JSON.stringify(figures, null, 1));

      expect(figures.kills).toBeGreaterThanOrEqual(200);
      expect(figures.restarts).toBeGreaterThanOrEqual(figures.kills);
      // Where the kills landed: during startup, with taps waiting, with uploads not yet acked.
      expect(figures.killsDuringStartup).toBeGreaterThan(0);
      expect(figures.killsWithTapsInFlight).toBeGreaterThanOrEqual(figures.kills / 8);
      expect(figures.killsWithUploadInFlight).toBeGreaterThan(0);
      for (const count of Object.values(figures.killsByMoment)) expect(count).toBeGreaterThan(0);

      // Taps really happened, of every kind.
      expect(figures.accepted).toBeGreaterThan(1000);
      expect(figures.refused).toBeGreaterThan(100);
      expect(figures.presented.replay).toBeGreaterThan(0);
      for (const reason of ['ok', 'replayed', 'deny-listed', 'unknown-issuer', 'malformed']) expect(figures.byReason[reason] ?? 0).toBeGreaterThan(0);
      expect(figures.checked).toBeGreaterThanOrEqual(figures.tapsInJournal + figures.tapsLogged);

      expect(figures.lost).toEqual([]);
      expect(figures.doubleAccepted).toEqual([]);
      expect(figures.barrierWithoutRow).toEqual([]);
      expect(figures.problems).toEqual([]);
      expect(figures.collectorConflicts).toBe(0);
      expect(figures.perGate).toHaveLength(2);
      for (const gate of figures.perGate) {
        expect(gate.lastSeq).toBeGreaterThan(0);
        expect(gate.collectorUpTo).toBe(gate.lastSeq);
      }
    },
    900_000,
  );
});
