import { createHash } from 'node:crypto';
import { refuse } from '../reasons.js';
import { ticketId } from '../replayGuard.js';
import { decodeCbor, isMap } from './cbor.js';
import { parseClaims, type Claims } from './claims.js';
import type { Credential } from './credential.js';
import { parseCoseSign1, toBeSigned, type CoseSign1 } from './cose.js';
import { keyFromCose, verifySignature, type VerifyKey } from './publicKey.js';
import type { TrustStore } from './trustList.js';
import type { CheckTime } from './validity.js';
import { VerifiedCache } from './verifiedCache.js';

/** An issuer-signed credential that binds a key: a card certificate or the inner credential of an offline code. */
export interface BoundCredential {
  claims: Claims;
  kid: Uint8Array | undefined;
  boundKey: VerifyKey;
  /** The product names its `entries`: a ticket, not a pass. */
  namesEntries: boolean;
}

const PRODUCT = -65538;

/** Whether the claims' product names its `entries` (a ticket) rather than leaving them out (a pass: DESIGN.md §2, docs/modes.md). */
export function namesEntries(claimsMap: unknown): boolean {
  const product = isMap(claimsMap) ? claimsMap.get(PRODUCT) : undefined;
  return isMap(product) && product.has('entries');
}

/**
 * The ticket a credential carries (see {@link Credential.ticket}): bound to its
 * issuer and `cti`, remembered until the ticket could no longer be accepted
 * (the credential's `exp` or the product's `until`, whichever is first, plus
 * the skew). A ticket without a `cti` could not be counted: `malformed`.
 */
export function ticketOf(claims: Claims, ticket: boolean, skewSec: number, what: string): Credential['ticket'] {
  if (!ticket || claims.product === undefined) return undefined;
  if (claims.cti === undefined) refuse('malformed', `${what}: a ticket (a product with entries) needs a cti to count its entries`);
  const endSec = Math.min(claims.exp, claims.product.until ?? Infinity);
  return {
    id: ticketId(claims.iss, Buffer.from(claims.cti.buffer, claims.cti.byteOffset, claims.cti.byteLength).toString('hex')),
    entries: claims.product.entries,
    until: (endSec + skewSec) * 1000,
  };
}

/** Check a COSE_Sign1 signature with the key the trust list gives; `bad-signature` if it fails. */
export function checkSignature(sign1: CoseSign1, key: VerifyKey, what: string): void {
  if (sign1.alg !== key.alg) refuse('bad-signature', `${what}: header says ${sign1.alg} but the key is ${key.alg}`);
  if (!verifySignature(key, toBeSigned(sign1), sign1.signature)) refuse('bad-signature', `${what}: signature does not verify`);
}

/**
 * Verifies issuer-signed credentials that bind a holder or card key, and
 * remembers the ones that verified by the hash of their bytes. The trust list
 * is consulted on every call, so a retired key stops a cached credential too.
 */
export class BoundCredentialVerifier {
  private readonly cache = new VerifiedCache<BoundCredential>();

  constructor(private trust: TrustStore) {}

  setTrust(trust: TrustStore): void {
    this.trust = trust;
    this.cache.clear();
  }

  verify(bytes: Uint8Array, time: CheckTime, what: string): BoundCredential {
    const cacheKey = createHash('sha256').update(bytes).digest('base64');
    const cached = this.cache.get(cacheKey);
    if (cached) {
      this.trust.issuerKey(cached.claims.iss, cached.kid, time.nowMs / 1000, time.skewSec);
      return cached;
    }
    const sign1 = parseCoseSign1(bytes, 'optional', what);
    const claimsMap = decodeCbor(sign1.payload, `${what} payload`);
    const claims = parseClaims(claimsMap, what, { cti: false, iat: false, cnf: true });
    const issuerKey = this.trust.issuerKey(claims.iss, sign1.kid, time.nowMs / 1000, time.skewSec);
    checkSignature(sign1, issuerKey, what);
    const verified = { claims, kid: sign1.kid, boundKey: keyFromCose(claims.cnfKey!, `${what} cnf`), namesEntries: namesEntries(claimsMap) };
    this.cache.set(cacheKey, verified);
    return verified;
  }
}
