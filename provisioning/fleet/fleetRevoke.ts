import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readInputJson } from '../../src/app/inputFile.js';
import { InputError } from '../../src/app/settingsSchema.js';
import { writeFileAtomic } from '../../src/app/trustFile.js';
import { RevocationList, RevocationListError, type RevocationEntry } from '../../src/core/credentials/emv/revocationList.js';
import { topics } from '../../src/core/sync/topics.js';
import { checkDelivery, deliver, processOutput, record, type DeliveryOptions, type Output } from './delivery.js';
import { loadFleetKey } from './fleetKey.js';
import { signFleetMessage } from './fleetSigner.js';
import { FleetState } from './fleetState.js';
import { keepMessage } from './keptMessages.js';

const REVOCATION_SEQ = 'revocations';
/** The list last signed, in DIR, in the format --file takes: `{"revoked": [...]}`. */
export const HELD_LIST_FILE = 'revocations.json';
const DEFAULT_VALID_DAYS = 30;

export interface FleetRevokeOptions extends DeliveryOptions {
  dir: string;
  /** RID:INDEX:SERIAL, hex. */
  add?: readonly string[] | undefined;
  remove?: readonly string[] | undefined;
  /** A whole list that replaces the one held in DIR, before --add and --remove. */
  file?: string | undefined;
  /** How long gates may still apply the signed message. */
  validDays?: number | undefined;
}

const FIELDS = [
  ['RID', 10],
  ['INDEX', 2],
  ['SERIAL', 6],
] as const;

function keyOf(entry: RevocationEntry): string {
  return `${entry.rid}:${entry.index}:${entry.serial}`;
}

function parseEntries(texts: readonly string[], option: string): RevocationEntry[] {
  return texts.map((text) => {
    const where = `${option} ${JSON.stringify(text)}`;
    const parts = text.split(':');
    if (parts.length !== 3) throw new InputError(`${where}: expected RID:INDEX:SERIAL in hex, e.g. A000000333:03:00012F`);
    FIELDS.forEach(([name, digits], i) => {
      if (!new RegExp(`^[0-9A-Fa-f]{${digits}}$`).test(parts[i]!)) throw new InputError(`${where}: ${name} must be ${digits} hex digits`);
    });
    const [rid, index, serial] = parts.map((part) => part.toUpperCase()) as [string, string, string];
    return { rid, index, serial };
  });
}

function readList(path: string): RevocationList {
  try {
    return RevocationList.fromDocument(readInputJson(path, 'revocation list'), path);
  } catch (error) {
    if (error instanceof RevocationListError) throw new InputError(error.message);
    throw error;
  }
}

/**
 * `citygate fleet revoke`: change the bank-card revocation list kept in DIR,
 * sign the whole list `{seq, issuedAt, exp, revoked}` with the next seq and
 * publish it retained on `citygate/v1/revocations`. Without changes, the list
 * is signed again with a fresh expiry, for gates that connect later.
 */
export async function fleetRevoke(options: FleetRevokeOptions, output: Output = processOutput): Promise<number> {
  const delivery = checkDelivery(options);
  const validDays = options.validDays ?? DEFAULT_VALID_DAYS;
  if (!Number.isInteger(validDays) || validDays < 1) throw new InputError('--valid-days must be a whole number of days, at least 1');
  const add = parseEntries(options.add ?? [], '--add');
  const remove = parseEntries(options.remove ?? [], '--remove');
  const removing = new Set(remove.map(keyOf));
  const both = add.find((entry) => removing.has(keyOf(entry)));
  if (both !== undefined) throw new InputError(`${keyOf(both)} is both added and removed`);
  const from = options.file === undefined ? undefined : readList(options.file);

  const key = loadFleetKey(options.dir);
  const heldPath = join(options.dir, HELD_LIST_FILE);
  const held = existsSync(heldPath) ? readList(heldPath) : RevocationList.EMPTY;
  const next = new Map((from ?? held).entries.map((entry) => [keyOf(entry), entry]));
  const alreadyListed = add.filter((entry) => next.has(keyOf(entry))).length;
  const notListed = remove.filter((entry) => !next.has(keyOf(entry))).length;
  for (const entry of add) next.set(keyOf(entry), entry);
  for (const entry of remove) next.delete(keyOf(entry));
  const revoked = [...next.keys()].sort().map((k) => next.get(k)!);

  const issuedAt = Math.floor(Date.now() / 1000);
  const exp = issuedAt + validDays * 86_400;
  const state = new FleetState(options.dir);
  try {
    const recorded = record(state, delivery, (kept) => {
      const seq = state.counter(REVOCATION_SEQ) + 1;
      state.setCounter(REVOCATION_SEQ, seq);
      const payload = signFleetMessage(key, { seq, issuedAt, exp, revoked }, 'revocations');
      state.queue(topics.revocations, payload, true);
      keepMessage(state, 'revocations', { seq, exp, payload });
      // Written last, inside the transaction: a failed write keeps the old seq; a failed commit after it leaves the new list, which the next run signs.
      if (kept) writeFileAtomic(heldPath, `${JSON.stringify({ revoked }, null, 2)}\n`);
      return seq;
    });
    const seq = recorded.result;
    const summary = {
      topic: topics.revocations,
      seq,
      exp,
      entries: revoked.length,
      added: revoked.filter((entry) => !held.isRevoked(entry.rid, entry.index, entry.serial)).length,
      removed: held.entries.filter((entry) => !next.has(keyOf(entry))).length,
      alreadyListed,
      notListed,
    };
    const status = await deliver(state, delivery, output, recorded);
    (options.print ? output.err : output.out)(JSON.stringify(summary));
    return status;
  } finally {
    state.close();
  }
}
