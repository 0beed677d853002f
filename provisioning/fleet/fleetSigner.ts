import { sign } from 'node:crypto';
import { encode, Tagged } from 'cborg';
import { ALG_LABEL, toBeSigned } from '../../src/core/credentials/cose.js';
import { fleetTyp, HEADER_TYP, type FleetPurpose } from '../../src/core/sync/fleetMessage.js';
import type { FleetKey } from './fleetKey.js';

const HEADER_ALG = 1;
const HEADER_KID = 4;
const COSE_SIGN1_TAG = 18;

/**
 * The purpose a payload's fields name: a trust list (`trustList`), a
 * revocation list (`revoked`), a deny-list update (`base`), a command
 * (`nonce`, `gate`). Exactly one must fit; a payload that fits none or
 * several is not signed.
 */
export function purposeOf(payload: Record<string, unknown>): FleetPurpose {
  const fits: FleetPurpose[] = [];
  if ('trustList' in payload) fits.push('trust');
  if ('revoked' in payload) fits.push('revocations');
  if ('base' in payload) fits.push('denylist');
  if ('nonce' in payload || 'gate' in payload) fits.push('command');
  if (fits.length !== 1) throw new Error(`cannot tell what this fleet message is for (${fits.length === 0 ? 'no field names it' : `it could be ${fits.join(' or ')}`}): name its purpose`);
  return fits[0]!;
}

/**
 * A fleet message (docs/sync.md): COSE_Sign1 tagged 18, protected header alg,
 * kid and typ (`citygate-<purpose>`: the gate opens it only as that), the
 * payload map encoded as CBOR (text keys). The tools always name the purpose;
 * without one it is read from the payload's fields (purposeOf).
 */
export function signFleetMessage(key: FleetKey, payload: Record<string, unknown>, purpose: FleetPurpose = purposeOf(payload)): Uint8Array {
  const protectedBytes = encode(new Map<number, unknown>([[HEADER_ALG, ALG_LABEL[key.alg]], [HEADER_KID, key.kid], [HEADER_TYP, fleetTyp(purpose)]]));
  const payloadBytes = encode(payload);
  const data = toBeSigned({ protectedBytes, payload: payloadBytes });
  // ES256 signatures in COSE are r||s (64 bytes), not DER.
  const signature = key.alg === 'ES256' ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }) : sign(null, data, key.privateKey);
  return encode(new Tagged(COSE_SIGN1_TAG, [protectedBytes, new Map(), payloadBytes, signature]));
}
