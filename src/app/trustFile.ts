import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { TrustStore } from '../core/credentials/trustList.js';
import type { Decider } from '../core/decider.js';
import type { Journal } from '../core/journal.js';
import type { TrustHolder } from '../core/sync/fleetLink.js';
import type { TrustUpdate } from '../core/sync/trustUpdate.js';
import { readInputText } from './inputFile.js';
import { InputError } from './settingsSchema.js';

const SEQ_KEY = 'trust_seq';

/** Write a file so that a power cut leaves the old or the new one, never half of either. */
export function writeFileAtomic(path: string, text: string): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

export function loadTrustFile(path: string): TrustStore {
  const text = readInputText(path, 'trust list');
  try {
    return TrustStore.fromJson(text);
  } catch (error) {
    throw new InputError(`${path}: ${(error as Error).message}`);
  }
}

/**
 * The trust list in force: the file given at provisioning, replaced by signed
 * updates from the fleet. The update's seq is kept in the journal so that an
 * older update is never applied after a restart.
 */
export class TrustFile implements TrustHolder {
  private store: TrustStore;

  constructor(
    private readonly path: string,
    private readonly journal: Journal,
    private readonly decider: Decider,
  ) {
    this.store = loadTrustFile(path);
  }

  current(): TrustStore {
    return this.store;
  }

  seq(): number {
    return Number(this.journal.metaValue(SEQ_KEY) ?? 0);
  }

  apply(update: TrustUpdate): void {
    const store = TrustStore.fromDocument(update.trustList);
    writeFileAtomic(this.path, `${JSON.stringify(update.trustList, null, 2)}\n`);
    this.journal.setMetaValue(SEQ_KEY, String(update.seq));
    this.use(store);
  }

  reload(): void {
    this.use(loadTrustFile(this.path));
  }

  private use(store: TrustStore): void {
    this.store = store;
    this.decider.setTrust(store);
  }
}
