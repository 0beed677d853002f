import type { Tap } from '../../src/core/tap.js';
import { holeBelow, rangeStart } from './seqHole.js';
import type { IncomingBatch } from './tapStorage.js';
import { answerToAsk, sameTap, type BatchOutcome } from './tapStore.js';

/** What the database held for one gate when the group's transaction began (its gate locked). */
export interface GateAtStart {
  /** The contiguous range stored; undefined for a gate never seen. */
  upTo: number | undefined;
  /** The highest seq stored for the gate, 0 for none. */
  highest: number;
}

/** What a store found once the group's taps were inserted in one statement. */
export interface GroupInsert {
  /** Ids the insert stored (new to the database). */
  inserted: ReadonlySet<string>;
  /** Taps held before the insert, by id: the rows a resend or a conflict is compared with. */
  held: ReadonlyMap<string, Tap>;
  /** Per gate, the seqs stored above `startUpTo(gate)` before the insert. */
  seqsAbove: ReadonlyMap<string, readonly number[]>;
}

/** The group's result: one outcome per batch, and what the store must write for it. */
export interface GroupSettlement {
  outcomes: BatchOutcome[];
  /** Gates seen for the first time, with the range they start at. */
  newGates: Map<string, number>;
  /** Gates whose range moved, with the range now stored. */
  upTos: Map<string, number>;
  /** Taps whose id was held with other content: recorded as conflicts, the held one kept. */
  conflicts: { gate: string; tap: Tap }[];
}

/** The range the group starts from for `gate`: held, or where its first batch with taps starts it (undefined while it has only asked). */
export function startUpTo(gate: string, atStart: GateAtStart | undefined, batches: readonly IncomingBatch[]): number | undefined {
  if (atStart?.upTo !== undefined) return atStart.upTo;
  const first = batches.find((batch) => batch.gate === gate && batch.taps.length > 0);
  if (!first) return undefined;
  return rangeStart(first.taps[0]!.seq, first.delivered);
}

interface GateRun {
  upTo: number | undefined;
  highest: number;
  present: Set<number>;
}

/**
 * Settle a group of batches, in order, from what one set-based insert did:
 * each batch gets the outcome it would have had stored alone after the ones
 * before it (the SQLite store's storeBatch, one statement per tap), so that
 * acks, gaps and duplicates are the same whichever store a collector uses.
 */
export function settleGroup(batches: readonly IncomingBatch[], atStart: ReadonlyMap<string, GateAtStart>, insert: GroupInsert): GroupSettlement {
  const runs = new Map<string, GateRun>();
  const settlement: GroupSettlement = { outcomes: [], newGates: new Map(), upTos: new Map(), conflicts: [] };
  /** Ids stored by an earlier batch of this group, with the tap as stored. */
  const storedNow = new Map<string, Tap>();
  for (const { gate, taps, delivered } of batches) {
    let run = runs.get(gate);
    if (!run) {
      const start = atStart.get(gate);
      run = { upTo: start?.upTo, highest: start?.highest ?? 0, present: new Set(insert.seqsAbove.get(gate) ?? []) };
      runs.set(gate, run);
    }
    if (taps.length === 0) {
      settlement.outcomes.push(answerToAsk(run.upTo));
      continue;
    }
    const first = taps[0]!.seq;
    const last = taps.at(-1)!.seq;
    if (run.upTo === undefined) {
      run.upTo = rangeStart(first, delivered);
      settlement.newGates.set(gate, run.upTo);
    }
    const upTo = run.upTo;
    const highest = Math.max(upTo, run.highest);
    const outcome: BatchOutcome = { stored: 0, duplicates: 0, conflicts: [], upTo, ...holeBelow(highest, first, delivered), filled: false };
    for (const tap of taps) {
      if (insert.inserted.has(tap.id) && !storedNow.has(tap.id)) {
        storedNow.set(tap.id, tap);
        outcome.stored++;
        run.present.add(tap.seq);
        run.highest = Math.max(run.highest, tap.seq);
        continue;
      }
      const kept = storedNow.get(tap.id) ?? insert.held.get(tap.id);
      if (kept === undefined) throw new Error(`tap ${tap.id} neither stored nor held: the insert and the reads disagree`);
      if (sameTap(kept, tap)) {
        outcome.duplicates++;
      } else {
        outcome.conflicts.push({ tap, stored: kept });
        settlement.conflicts.push({ gate, tap });
      }
    }
    let next = upTo;
    while (run.present.has(next + 1)) run.present.delete(++next);
    if (next !== upTo) {
      run.upTo = next;
      settlement.upTos.set(gate, next);
      outcome.filled = highest > last && next > last;
      outcome.upTo = next;
    }
    settlement.outcomes.push(outcome);
  }
  return settlement;
}
