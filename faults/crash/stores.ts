import Database from 'better-sqlite3';
import type { Tap } from '../../src/core/tap.js';
import { tapFromRow, type TapRow } from '../../src/core/tapRow.js';

/** The journal's highest seq, read while the daemon may be running (WAL lets a reader in); 0 if it has none yet. */
export function journalLastSeq(path: string): number {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return (db.prepare('SELECT coalesce(max(seq), 0) FROM taps').pluck().get() as number) ?? 0;
  } catch {
    return 0;
  } finally {
    db?.close();
  }
}

/** Every row of a gate's journal, by seq, read-only: the gate's own record of what it did. */
export function journalTaps(path: string): Tap[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT * FROM taps ORDER BY seq').all() as TapRow[]).map(tapFromRow);
  } finally {
    db.close();
  }
}

export interface CollectedTaps {
  taps: Tap[];
  /** Taps that arrived under an id already stored with other content. */
  conflicts: { id: string; seq: number }[];
  /** The contiguous seq the collector acks (0 if it never heard of the gate). */
  upTo: number;
}

/** One gate's taps as the reference collector stored them, read-only. */
export function collectedTaps(path: string, gate: string): CollectedTaps {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const taps = (db.prepare('SELECT * FROM taps WHERE gate = ? ORDER BY seq, id').all(gate) as TapRow[]).map(tapFromRow);
    const conflicts = db.prepare('SELECT id, seq FROM conflicts WHERE gate = ?').all(gate) as { id: string; seq: number }[];
    const upTo = (db.prepare('SELECT up_to FROM gates WHERE gate = ?').pluck().get(gate) as number | undefined) ?? 0;
    return { taps, conflicts, upTo };
  } finally {
    db.close();
  }
}
