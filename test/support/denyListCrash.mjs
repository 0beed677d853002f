/*
 * Child process for the deny-list crash test: opens the store in argv[2] and
 * applies the updates of crashPlan() in order, writing "start <i>" to stdout
 * before update i and "done <i> <ms>" after it, then waits for the end of
 * stdin, so that a kill meant for the last update cannot miss the process.
 * The test SIGKILLs it mid-way.
 * Plain JS importing the build (dist/), so that it runs without a loader.
 */
import { fileURLToPath } from 'node:url';

const ISSUER = 'crash.issuer';
const SNAPSHOT_PARTS = 2;
const PART_ENTRIES = 100_000;
const DELTAS = 5;
const DELTA_ADDS = 100_000;
const DELTA_REMOVES = 50_000;

function snapshotEntry(k) {
  return `S-${Math.floor(k / PART_ENTRIES)}-${k % PART_ENTRIES}`;
}

/** The updates, in order: a 200k snapshot in two parts, then deltas of 100k adds and 50k removes each. */
export function crashPlan() {
  const updates = [];
  for (let p = 0; p < SNAPSHOT_PARTS; p++) {
    const add = Array.from({ length: PART_ENTRIES }, (_, i) => snapshotEntry(p * PART_ENTRIES + i));
    updates.push({ issuer: ISSUER, seq: 1, base: 0, add, remove: [], issuedAt: 0, part: { index: p + 1, count: SNAPSHOT_PARTS } });
  }
  for (let d = 1; d <= DELTAS; d++) {
    const add = Array.from({ length: DELTA_ADDS }, (_, i) => (i % 10 === 0 ? `cti:${d.toString(16)}${i.toString(16).padStart(6, '0')}` : `D-${d}-${i}`));
    // The next 50k snapshot entries; the last delta's run past the snapshot's end, removing absent entries.
    const remove = Array.from({ length: DELTA_REMOVES }, (_, i) => snapshotEntry((d - 1) * DELTA_REMOVES + i));
    updates.push({ issuer: ISSUER, seq: d + 1, base: d, add, remove, issuedAt: 0 });
  }
  return updates;
}

export const CRASH_ISSUER = ISSUER;
/** Compaction every 2 deltas, so that a kill can land in one. */
export const CRASH_OPTIONS = { compactAfterUpdates: 2 };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { DenyListStore } = await import('../../dist/src/core/denylist/denyListStore.js');
  const store = DenyListStore.open(process.argv[2], CRASH_OPTIONS);
  const updates = crashPlan();
  for (let i = 0; i < updates.length; i++) {
    process.stdout.write(`start ${i}\n`);
    const started = performance.now();
    store.apply(updates[i]);
    process.stdout.write(`done ${i} ${performance.now() - started}\n`);
  }
  store.close();
  process.stdin.on('end', () => process.exit(0)).resume();
}
