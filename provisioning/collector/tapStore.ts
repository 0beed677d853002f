import Database from 'better-sqlite3';
import type { Tap } from '../../src/core/tap.js';
import { tapFromRow, tapParameters, type TapRow } from '../../src/core/tapRow.js';
import { holeBelow, rangeStart } from './seqHole.js';
import type { IncomingBatch } from './tapStorage.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS taps (
    id TEXT PRIMARY KEY, gate TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, site TEXT NOT NULL,
    mode TEXT NOT NULL, kind TEXT NOT NULL, issuer TEXT, subject TEXT, category TEXT, result TEXT NOT NULL,
    reason TEXT NOT NULL, fare INTEGER, product TEXT, latency_ms REAL NOT NULL, place TEXT, received_at TEXT NOT NULL, emv TEXT, purse TEXT
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS taps_by_gate_seq ON taps (gate, seq);
  CREATE TABLE IF NOT EXISTS gates (gate TEXT PRIMARY KEY, up_to INTEGER NOT NULL, first_seen TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS conflicts (id TEXT NOT NULL, gate TEXT NOT NULL, seq INTEGER NOT NULL, received_at TEXT NOT NULL, tap TEXT NOT NULL);
`;

/** Missing seqs `from..to` (inclusive) of one gate, above its contiguous range. */
export interface Gap {
  from: number;
  to: number;
}

export interface GateProgress {
  gate: string;
  /** Every tap with seq <= upTo is stored: what the collector acks. */
  upTo: number;
  gaps: Gap[];
}

export interface BatchOutcome {
  stored: number;
  duplicates: number;
  /** Taps whose id was stored before with other content: the stored one is kept. */
  conflicts: { tap: Tap; stored: Tap }[];
  upTo: number;
  /** A hole this batch opened: it starts beyond the highest seq stored so far, and the gate counts it acknowledged (or cannot tell). */
  opened: Gap | undefined;
  /** A hole below this batch of taps the gate still holds unacknowledged: on their way, not a gap (seqHole.ts). */
  awaited: Gap | undefined;
  /** The batch closed the hole(s) below it: upTo moved past taps stored earlier. */
  filled: boolean;
}

/** A batch without taps asks how far the gate's taps are stored: nothing changes, a gate never seen is at 0. */
export function answerToAsk(upTo: number | undefined): BatchOutcome {
  return { stored: 0, duplicates: 0, conflicts: [], upTo: upTo ?? 0, opened: undefined, awaited: undefined, filled: false };
}

/** JSON with object keys sorted, so two equal products compare equal whatever order the gate wrote them in. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}


const TAP_FIELDS = ['id', 'seq', 'at', 'gate', 'site', 'mode', 'kind', 'issuer', 'subject', 'category', 'result', 'reason', 'fare', 'product', 'latencyMs', 'place', 'emv', 'purse'] as const;

/** The same tap, whatever the order of its objects' keys: a resend, not a conflict. */
export function sameTap(a: Tap, b: Tap): boolean {
  return TAP_FIELDS.every((field) => canonical(a[field]) === canonical(b[field]));
}

/**
 * The collector's SQLite file: every tap once by `id`, and per gate the
 * contiguous seq range stored. WAL with synchronous=FULL: a batch acked is on disk.
 */
export class TapStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(path: string, readonly: boolean = false) {
    this.db = new Database(path, { readonly, fileMustExist: readonly });
    if (!readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      // Collectors sharing one file (a shared subscription) take turns to write.
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
      // A store made before bank cards or purse cards: their claim and purchase data get their columns.
      const columns = this.db.prepare("SELECT name FROM pragma_table_info('taps')").pluck().all() as string[];
      if (!columns.includes('emv')) this.db.exec('ALTER TABLE taps ADD COLUMN emv TEXT');
      if (!columns.includes('purse')) this.db.exec('ALTER TABLE taps ADD COLUMN purse TEXT');
    }
    this.statements = {
      insertTap: this.db.prepare(
        `INSERT OR IGNORE INTO taps (id, gate, seq, at, site, mode, kind, issuer, subject, category, result, reason, fare, product, latency_ms, place, emv, purse, received_at)
         VALUES (@id, @gate, @seq, @at, @site, @mode, @kind, @issuer, @subject, @category, @result, @reason, @fare, @product, @latencyMs, @place, @emv, @purse, @receivedAt)`,
      ),
      selectTap: this.db.prepare('SELECT * FROM taps WHERE id = ?'),
      selectGate: this.db.prepare('SELECT up_to FROM gates WHERE gate = ?').pluck(),
      insertGate: this.db.prepare('INSERT INTO gates (gate, up_to, first_seen) VALUES (?, ?, ?)'),
      updateGate: this.db.prepare('UPDATE gates SET up_to = ? WHERE gate = ?'),
      selectGates: this.db.prepare('SELECT gate, up_to FROM gates ORDER BY gate'),
      maxSeq: this.db.prepare('SELECT max(seq) FROM taps WHERE gate = ?').pluck(),
      seqsAbove: this.db.prepare('SELECT seq FROM taps WHERE gate = ? AND seq > ? ORDER BY seq').pluck(),
      insertConflict: this.db.prepare('INSERT INTO conflicts (id, gate, seq, received_at, tap) VALUES (?, ?, ?, ?, ?)'),
    };
  }

  /**
   * Store a batch in one transaction and move the gate's contiguous range.
   * A gate never seen before starts its range at the delivered mark the batch
   * carries (what came before was acknowledged, maybe elsewhere, maybe since
   * pruned): the first batch to arrive may not be the first one sent, when
   * earlier ones of its window were lost. A batch without the mark (an older
   * gate) starts the range just below itself.
   */
  storeBatch(gate: string, taps: readonly Tap[], receivedAt: string, gateDelivered?: number): BatchOutcome {
    return this.db
      .transaction((): BatchOutcome => {
        let upTo = this.statements.selectGate.get(gate) as number | undefined;
        if (taps.length === 0) return answerToAsk(upTo);
        const first = taps[0]!.seq;
        if (upTo === undefined) {
          upTo = rangeStart(first, gateDelivered);
          this.statements.insertGate.run(gate, upTo, receivedAt);
        }
        const highest = Math.max(upTo, (this.statements.maxSeq.get(gate) as number | null) ?? 0);
        const outcome: BatchOutcome = { stored: 0, duplicates: 0, conflicts: [], upTo, ...holeBelow(highest, first, gateDelivered), filled: false };
        for (const tap of taps) {
          const inserted = this.statements.insertTap.run({ ...tapParameters(tap), receivedAt });
          if (inserted.changes === 1) {
            outcome.stored++;
            continue;
          }
          const stored = tapFromRow(this.statements.selectTap.get(tap.id) as TapRow);
          if (sameTap(stored, tap)) {
            outcome.duplicates++;
          } else {
            outcome.conflicts.push({ tap, stored });
            this.statements.insertConflict.run(tap.id, gate, tap.seq, receivedAt, JSON.stringify(tap));
          }
        }
        let next = upTo;
        for (const seq of this.statements.seqsAbove.iterate(gate, upTo) as IterableIterator<number>) {
          if (seq === next) continue;
          if (seq !== next + 1) break;
          next = seq;
        }
        if (next !== upTo) {
          this.statements.updateGate.run(next, gate);
          outcome.filled = highest > taps.at(-1)!.seq && next > taps.at(-1)!.seq;
          outcome.upTo = next;
        }
        return outcome;
      })
      .immediate();
  }

  /** Several batches in one transaction, in order (what the collector received meanwhile). */
  storeBatches(batches: readonly IncomingBatch[], receivedAt: string): BatchOutcome[] {
    return this.db.transaction(() => batches.map((batch) => this.storeBatch(batch.gate, batch.taps, receivedAt, batch.delivered))).immediate();
  }

  /** Per gate: the contiguous range stored, and the holes above it. */
  progress(): GateProgress[] {
    const gates = this.statements.selectGates.all() as { gate: string; up_to: number }[];
    return gates.map(({ gate, up_to: upTo }) => {
      const gaps: Gap[] = [];
      let previous = upTo;
      for (const seq of this.statements.seqsAbove.iterate(gate, upTo) as IterableIterator<number>) {
        if (seq > previous + 1) gaps.push({ from: previous + 1, to: seq - 1 });
        previous = Math.max(previous, seq);
      }
      return { gate, upTo, gaps };
    });
  }

  close(): void {
    this.db.close();
  }
}
