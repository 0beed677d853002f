import { sign } from 'node:crypto';
import { encode, Tagged } from 'cborg';
import { ALG_LABEL, toBeSigned } from '../../src/core/credentials/cose.js';
import type { FleetKey } from './fleetKey.js';

const HEADER_ALG = 1;
const HEADER_KID = 4;
const COSE_SIGN1_TAG = 18;

/**
 * A fleet message (docs/sync.md): COSE_Sign1 tagged 18, protected header alg
 * and kid, the payload map encoded as CBOR (text keys).
 */
export function signFleetMessage(key: FleetKey, payload: Record<string, unknown>): Uint8Array {
  const protectedBytes = encode(new Map<number, unknown>([[HEADER_ALG, ALG_LABEL[key.alg]], [HEADER_KID, key.kid]]));
  const payloadBytes = encode(payload);
  const data = toBeSigned({ protectedBytes, payload: payloadBytes });
  // ES256 signatures in COSE are r||s (64 bytes), not DER.
  const signature = key.alg === 'ES256' ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }) : sign(null, data, key.privateKey);
  return encode(new Tagged(COSE_SIGN1_TAG, [protectedBytes, new Map(), payloadBytes, signature]));
}
