import type { BatchOutcome, GateProgress } from './tapStore.js';
import { TapStore } from './tapStore.js';
import type { IncomingBatch, TapStorage } from './tapStorage.js';

/**
 * The embedded SQLite store behind the async interface. Its work is done
 * synchronously when called: a batch handed over while the collector is idle
 * is committed before the broker gets its PUBACK, as before.
 */
export class SqliteTapStorage implements TapStorage {
  readonly store: TapStore;

  constructor(path: string, readonly: boolean = false) {
    this.store = new TapStore(path, readonly);
  }

  storeBatches(batches: readonly IncomingBatch[], receivedAt: string): Promise<BatchOutcome[]> {
    try {
      return Promise.resolve(this.store.storeBatches(batches, receivedAt));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  progress(): Promise<GateProgress[]> {
    return Promise.resolve(this.store.progress());
  }

  close(): Promise<void> {
    this.store.close();
    return Promise.resolve();
  }
}
