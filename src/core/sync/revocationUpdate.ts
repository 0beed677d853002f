import { z } from 'zod';
import { RevocationList, RevocationListError, type RevocationEntry } from '../credentials/emv/revocationList.js';
import type { TrustStore } from '../credentials/trustList.js';
import { FleetMessageError, judgedAt, openFleetMessage, type FleetAt } from './fleetMessage.js';

/** The fields around the list; its entries are RevocationList's to read, so that errors name the entry and field. */
export const revocationUpdateFields = z.object({
  seq: z.number().int().min(1),
  issuedAt: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
  revoked: z.array(z.unknown()),
});

/** A bank-card revocation list from `citygate/v1/revocations` (docs/sync.md): the whole list, at a seq, until `exp`. */
export interface RevocationUpdate {
  seq: number;
  issuedAt: number;
  /** Epoch seconds after which the message is no longer applied (the list in force stays). */
  exp: number;
  list: RevocationList;
}

/** The update as a document: the signed payload's fields, and what the gate keeps on disk. */
export function revocationDocument(update: RevocationUpdate): { seq: number; issuedAt: number; exp: number; revoked: readonly RevocationEntry[] } {
  return { seq: update.seq, issuedAt: update.issuedAt, exp: update.exp, revoked: update.list.entries };
}

/**
 * Verified with the fleet keys of the trust list in force, signed as one (typ
 * `citygate-revocations`), not expired (with the gate's clock skew; with an
 * untrusted clock, at the last trusted time), every entry readable. Whether
 * its seq is new is the holder's to judge. Throws FleetMessageError, never
 * anything else.
 */
export function openRevocationUpdate(bytes: Uint8Array, trust: TrustStore, at: FleetAt, skewSec: number): RevocationUpdate {
  const fields = openFleetMessage(bytes, trust, at, 'revocations', revocationUpdateFields, 'revocation-list update');
  const what = `revocation-list update ${fields.seq}`;
  const { sec, note } = judgedAt(at);
  // Expired is "invalid": a stale list replayed to a gate that lost its own must not be taken.
  if (sec >= fields.exp + skewSec) throw new FleetMessageError('invalid', `${what}: expired at ${new Date(fields.exp * 1000).toISOString()}${note}`);
  try {
    return { seq: fields.seq, issuedAt: fields.issuedAt, exp: fields.exp, list: RevocationList.fromDocument(fields, what) };
  } catch (error) {
    if (error instanceof RevocationListError) throw new FleetMessageError('invalid', error.message);
    throw error;
  }
}
