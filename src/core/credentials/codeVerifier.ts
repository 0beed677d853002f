import { createHash } from 'node:crypto';
import { asIdentified, refuse } from '../reasons.js';
import { decodeBase45 } from './base45.js';
import { decodeCbor, isBytes, isMap } from './cbor.js';
import { parseClaims } from './claims.js';
import { parseCoseSign1 } from './cose.js';
import type { Credential } from './credential.js';
import { BoundCredentialVerifier, checkSignature, namesEntries, ticketOf } from './issuerSigned.js';
import { looksLikeTransportCode } from './transport/layout.js';
import { TransportCodeVerifier } from './transport/transportCodeVerifier.js';
import type { TrustStore } from './trustList.js';
import { checkValidity, type CheckTime } from './validity.js';

export const CODE_PREFIX = 'CG1:';
/** The most alphanumeric characters a QR symbol holds (version 40, level L); anything longer did not come from one. */
const MAX_CODE_TEXT = 4296;

/**
 * What a scanner read: the text of a code, or the bytes of a binary one (a
 * serial module in raw or hex output, a camera's byte-mode payload). Bytes
 * are a transport QR code by their version byte 0x80/0x81, else the UTF-8 of
 * a text code.
 */
export type CodePayload = string | Uint8Array;

export interface CodeCheckTime extends CheckTime {
  /** How old the iat of a holder-bound offline code may be. */
  freshnessSec: number;
  /** The gate's time zone: a transport code's issuer certificate expires at the end of a month there. */
  timezone?: string | undefined;
}

const HOLDER_INNER = 1;
const HOLDER_IAT = 2;
const HOLDER_COUNTER = 3;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * The replay key of an offline code: a hash of the first half of the holder's
 * signature (ECDSA's r, EdDSA's R), which only the holder's key can produce and
 * nobody can compute before the phone shows the code. (Holder, iat and counter
 * are chosen by the phone and predictable: a key made of them let anyone who can
 * publish used keys burn a holder's future codes.) Not the whole signature: an
 * ES256 signature (r, s) also verifies as (r, n - s), which anyone can compute,
 * and would be a new key for the same code.
 */
export function offlineCodeKey(signature: Uint8Array): string {
  const commitment = signature.subarray(0, signature.length / 2);
  return `code:${createHash('sha256').update('citygate offline code\0').update(commitment).digest('base64url')}`;
}

/** Binary payload that is not a transport code: a text code only if it is UTF-8. */
function textOf(bytes: Uint8Array): string {
  // A CG1 code's text is alphanumeric, a byte a character: more did not come from a QR symbol (and is not worth decoding).
  if (bytes.length > MAX_CODE_TEXT) refuse('malformed', `binary code of ${bytes.length} bytes is longer than a QR code holds`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return refuse('malformed', `binary code of ${bytes.length} bytes is neither a transport code (version 80 or 81) nor text`);
  }
}

function unsigned(value: unknown, name: string): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) refuse('malformed', `offline code: ${name} is not an unsigned integer`);
  return n;
}

/**
 * Verifies the text of a CG1 city code (DESIGN.md §2), both profiles, offline.
 * Returns the credential or throws a {@link Refusal} with the reason code.
 */
export class CodeVerifier {
  private readonly bound: BoundCredentialVerifier;
  private readonly transport: TransportCodeVerifier;

  constructor(private trust: TrustStore) {
    this.bound = new BoundCredentialVerifier(trust);
    this.transport = new TransportCodeVerifier(trust);
  }

  setTrust(trust: TrustStore): void {
    this.trust = trust;
    this.bound.setTrust(trust);
    this.transport.setTrust(trust);
  }

  verify(code: CodePayload, time: CodeCheckTime): Credential {
    if (typeof code === 'string') return this.verifyText(code, time);
    if (looksLikeTransportCode(code)) return this.transport.verify(code, time);
    return this.verifyText(textOf(code), time);
  }

  private verifyText(text: string, time: CodeCheckTime): Credential {
    if (text.length > MAX_CODE_TEXT) refuse('malformed', `code text of ${text.length} characters is longer than a QR code holds`);
    if (!text.startsWith(CODE_PREFIX)) refuse('malformed', `code does not start with ${CODE_PREFIX}`);
    const outer = parseCoseSign1(decodeBase45(text.slice(CODE_PREFIX.length)), 'required', 'code');
    const payload = decodeCbor(outer.payload, 'code payload');
    if (!isMap(payload)) refuse('malformed', 'code payload is not a map');
    // The profiles differ in label 1: the issuer (text) or the inner credential (bytes).
    return isBytes(payload.get(HOLDER_INNER))
      ? this.verifyHolderBound(outer, payload, time)
      : this.verifyIssuerSigned(outer, payload, time);
  }

  private verifyIssuerSigned(outer: ReturnType<typeof parseCoseSign1>, payload: Map<unknown, unknown>, time: CodeCheckTime): Credential {
    const claims = parseClaims(payload, 'code', { cti: true, iat: true, cnf: false });
    // A credential bound to a holder or card key proves nothing without that key's signature:
    // shown on its own (a photographed offline code's inner part, a card certificate) it is not a code.
    if (claims.cnfKey) refuse('malformed', 'code carries a holder key (cnf) but no holder signature');
    checkSignature(outer, this.trust.issuerKey(claims.iss, outer.kid, time.nowMs / 1000, time.skewSec), 'code');
    const identity = { issuer: claims.iss, subject: claims.sub, category: claims.category };
    asIdentified(identity, () => checkValidity(claims, time, 'code'));
    const cti = hex(claims.cti!);
    const ticket = ticketOf(claims, namesEntries(payload), time.skewSec, 'code');
    return {
      kind: 'code',
      profile: 'issuer',
      issuer: claims.iss,
      subject: claims.sub,
      category: claims.category,
      product: claims.product,
      cti,
      replay: { key: `cti:${claims.iss}:${cti}`, until: (claims.exp + time.skewSec) * 1000 },
      ...(ticket ? { ticket } : {}),
    };
  }

  private verifyHolderBound(outer: ReturnType<typeof parseCoseSign1>, payload: Map<unknown, unknown>, time: CodeCheckTime): Credential {
    const iatValue = payload.get(HOLDER_IAT);
    if (typeof iatValue !== 'number' || !Number.isFinite(iatValue)) refuse('malformed', 'offline code: iat is missing or not a number');
    // The counter is the phone's business (it makes codes of the same second differ); the replay key does not need it.
    unsigned(payload.get(HOLDER_COUNTER), 'counter');
    const inner = this.bound.verify(payload.get(HOLDER_INNER) as Uint8Array, time, 'inner credential');
    checkSignature(outer, inner.boundKey, 'offline code (holder signature)');
    const { iss, sub } = inner.claims;
    asIdentified({ issuer: iss, subject: sub, category: inner.claims.category }, () => {
      checkValidity(inner.claims, time, 'inner credential');
      const now = time.nowMs / 1000;
      if (iatValue > now + time.skewSec) refuse('not-yet-valid', `offline code generated in the future (${iatValue})`);
      if (now - iatValue > time.freshnessSec) refuse('stale', `offline code generated at ${iatValue}, older than ${time.freshnessSec} s`);
    });
    const ticket = ticketOf(inner.claims, inner.namesEntries, time.skewSec, 'inner credential');
    return {
      kind: 'code',
      profile: 'holder',
      issuer: iss,
      subject: sub,
      category: inner.claims.category,
      product: inner.claims.product,
      cti: inner.claims.cti ? hex(inner.claims.cti) : undefined,
      replay: { key: offlineCodeKey(outer.signature), until: (iatValue + time.freshnessSec + time.skewSec) * 1000 },
      ...(ticket ? { ticket } : {}),
    };
  }
}
