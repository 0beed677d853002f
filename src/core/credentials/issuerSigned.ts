import { createHash } from 'node:crypto';
import { refuse } from '../reasons.js';
import { decodeCbor } from './cbor.js';
import { parseClaims, type Claims } from './claims.js';
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
    const claims = parseClaims(decodeCbor(sign1.payload, `${what} payload`), what, { cti: false, iat: false, cnf: true });
    const issuerKey = this.trust.issuerKey(claims.iss, sign1.kid, time.nowMs / 1000, time.skewSec);
    checkSignature(sign1, issuerKey, what);
    const verified = { claims, kid: sign1.kid, boundKey: keyFromCose(claims.cnfKey!, `${what} cnf`) };
    this.cache.set(cacheKey, verified);
    return verified;
  }
}
