import type { Tap } from '../../src/core/tap.js';
import type { BatchOutcome, GateProgress } from './tapStore.js';

/** A batch as the collector hands it to a store. */
export interface IncomingBatch {
  gate: string;
  taps: readonly Tap[];
  /** The gate's delivered mark when it sent the batch; undefined from gates before it was added. */
  delivered: number | undefined;
}

/**
 * Where the collector keeps taps: the embedded SQLite file or PostgreSQL.
 * Both store every tap once by id and keep per gate the contiguous seq range stored.
 */
export interface TapStorage {
  /**
   * Store the batches, in order, in one transaction. Resolves once it is
   * committed, one outcome per batch; rejects when nothing was stored.
   */
  storeBatches(batches: readonly IncomingBatch[], receivedAt: string): Promise<BatchOutcome[]>;
  /** Per gate: the contiguous range stored, and the holes above it. */
  progress(): Promise<GateProgress[]>;
  close(): Promise<void>;
}

/** `--db postgres://...` (or `postgresql://`) is PostgreSQL; anything else is the path of a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** Open the store `db` names; the driver of the other kind is never loaded. */
export async function openTapStorage(db: string, options: { readonly?: boolean } = {}): Promise<TapStorage> {
  if (isPostgresUrl(db)) {
    const { PostgresTapStore } = await import('./postgresTapStore.js');
    return PostgresTapStore.open(db, options);
  }
  const { SqliteTapStorage } = await import('./sqliteTapStorage.js');
  return new SqliteTapStorage(db, options.readonly ?? false);
}
