import { existsSync } from 'node:fs';
import { RevocationList, RevocationListError } from '../core/credentials/emv/revocationList.js';
import type { RevocationHolder } from '../core/sync/fleetLink.js';
import { revocationDocument, revocationUpdateFields, type RevocationUpdate } from '../core/sync/revocationUpdate.js';
import { readInputJson } from './inputFile.js';
import { InputError, parseWith } from './settingsSchema.js';
import { writeFileAtomic } from './trustFile.js';

/** Kept in the state directory: the gate rewrites it, and the config directory is read-only to the service. */
export const REVOCATIONS_FILE = 'revocations.json';

/** Who checks bank cards against the list (the decider). */
export interface RevocationSink {
  setRevocations(list: RevocationList): void;
}

const NONE: RevocationUpdate = { seq: 0, issuedAt: 0, exp: 0, list: RevocationList.EMPTY };

/**
 * The last update the gate applied, as it was signed (seq, issuedAt, exp,
 * revoked): seq and list are replaced together by one rename. No file: none
 * received yet, the empty list. A file that does not read is an InputError
 * naming it: the gate does not start on a list it cannot check.
 */
export function loadRevocationFile(path: string): RevocationUpdate {
  if (!existsSync(path)) return NONE;
  const document = readInputJson(path, 'revocation list');
  const fields = parseWith(revocationUpdateFields, document, path);
  try {
    return { seq: fields.seq, issuedAt: fields.issuedAt, exp: fields.exp, list: RevocationList.fromDocument(fields, path) };
  } catch (error) {
    if (error instanceof RevocationListError) throw new InputError(error.message);
    throw error;
  }
}

/**
 * The bank-card revocation list in force: loaded at start and handed to the
 * decider, replaced by signed updates from the fleet. An expired list stays
 * in force: expiry only stops a stale message from being applied.
 */
export class RevocationFile implements RevocationHolder {
  private held: RevocationUpdate;

  constructor(
    private readonly path: string,
    private readonly sink: RevocationSink,
  ) {
    this.held = loadRevocationFile(path);
    sink.setRevocations(this.held.list);
  }

  seq(): number {
    return this.held.seq;
  }

  apply(update: RevocationUpdate): void {
    // In force before it is written: a card revoked now is refused now, even if the disk fails.
    this.held = update;
    this.sink.setRevocations(update.list);
    writeFileAtomic(this.path, `${JSON.stringify(revocationDocument(update), null, 2)}\n`);
  }
}
