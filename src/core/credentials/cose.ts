import { encode } from 'cborg';
import { refuse } from '../reasons.js';
import { decodeCbor, isBytes, isMap, Tagged } from './cbor.js';

/** The two algorithms a gate accepts (DESIGN.md §2), by their COSE names. */
export type CoseAlg = 'ES256' | 'EdDSA';

const ALG_BY_LABEL = new Map<number, CoseAlg>([
  [-7, 'ES256'],
  [-8, 'EdDSA'],
]);
export const ALG_LABEL: Record<CoseAlg, number> = { ES256: -7, EdDSA: -8 };

const HEADER_ALG = 1;
const HEADER_CRIT = 2;
const HEADER_KID = 4;
const COSE_SIGN1_TAG = 18;
const EMPTY = new Uint8Array(0);

/** A decoded COSE_Sign1 (RFC 9052 §4.2) whose signature has not been checked yet. */
export interface CoseSign1 {
  protectedBytes: Uint8Array;
  alg: CoseAlg;
  kid: Uint8Array | undefined;
  payload: Uint8Array;
  signature: Uint8Array;
}

/**
 * Decode a COSE_Sign1. `tag: 'required'` is the QR contract (tagged 18);
 * nested credentials and card certificates may come tagged or bare.
 */
export function parseCoseSign1(bytes: Uint8Array, tag: 'required' | 'optional', what: string): CoseSign1 {
  let item = decodeCbor(bytes, what);
  if (item instanceof Tagged) {
    if (item.tag !== COSE_SIGN1_TAG) refuse('malformed', `${what}: CBOR tag ${item.tag}, expected 18 (COSE_Sign1)`);
    item = item.value;
  } else if (tag === 'required') {
    refuse('malformed', `${what}: COSE_Sign1 is not tagged 18`);
  }
  if (!Array.isArray(item) || item.length !== 4) refuse('malformed', `${what}: COSE_Sign1 must be an array of 4`);
  const [protectedBytes, unprotected, payload, signature] = item as unknown[];
  if (!isBytes(protectedBytes)) refuse('malformed', `${what}: protected header is not a byte string`);
  if (!isMap(unprotected)) refuse('malformed', `${what}: unprotected header is not a map`);
  if (!isBytes(payload)) refuse('malformed', `${what}: payload is not a byte string (detached payloads are not supported)`);
  if (!isBytes(signature)) refuse('malformed', `${what}: signature is not a byte string`);

  const header = protectedBytes.length === 0 ? new Map() : decodeCbor(protectedBytes, `${what} protected header`);
  if (!isMap(header)) refuse('malformed', `${what}: protected header is not a map`);
  if (header.has(HEADER_CRIT)) refuse('malformed', `${what}: critical header parameters are not supported`);
  const algLabel = header.get(HEADER_ALG);
  if (algLabel === undefined) refuse('malformed', `${what}: protected header has no alg`);
  const alg = typeof algLabel === 'number' ? ALG_BY_LABEL.get(algLabel) : undefined;
  if (!alg) refuse('malformed', `${what}: algorithm ${String(algLabel)} is not accepted (ES256 or EdDSA)`);
  const kid = header.get(HEADER_KID) ?? unprotected.get(HEADER_KID);
  if (kid !== undefined && !isBytes(kid)) refuse('malformed', `${what}: kid is not a byte string`);
  return { protectedBytes, alg, kid, payload, signature };
}

/** Sig_structure for COSE_Sign1 with empty external AAD (RFC 9052 §4.4): the bytes that are signed. */
export function toBeSigned(sign1: Pick<CoseSign1, 'protectedBytes' | 'payload'>): Uint8Array {
  return encode(['Signature1', sign1.protectedBytes, EMPTY, sign1.payload]);
}
