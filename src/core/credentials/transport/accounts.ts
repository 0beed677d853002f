import { createHash } from 'node:crypto';
import { Sm2KeyError, Sm2PublicKey } from '../../crypto/sm2.js';
import { refuse } from '../../reasons.js';
import { VerifiedCache } from '../verifiedCache.js';
import type { IssuerCertificates, VerifiedIssuerCertificate } from './issuerCertificates.js';
import type { TransportCode } from './layout.js';
import { accountUserId } from './userIds.js';

/** Account data whose issuer signature (and, under it, whose issuer certificate) verified. */
export interface VerifiedAccount {
  certificate: VerifiedIssuerCertificate;
  /** Parsed once, with its Z_A kept: a regular rider's codes cost one SM2 verification each. */
  userKey: Sm2PublicKey;
}

/**
 * Riders whose account data a gate keeps verified. An entry is a parsed key,
 * about a kilobyte: 10,000 of them is a day of a busy station's regulars in
 * about 10 MB; one pushed out costs that rider one more verification.
 */
const ACCOUNT_CACHE = 10_000;

/**
 * Verifies the issuer's signature over a code's certificate and account
 * fields (the same for every code of a rider until the issuer authorises the
 * account again), and remembers the ones that verified by a hash of the
 * signed bytes, the signature and the version. The certificate in those bytes
 * is checked first, through its own cache.
 */
export class Accounts {
  private readonly cache = new VerifiedCache<VerifiedAccount>(ACCOUNT_CACHE);

  constructor(private readonly certificates: IssuerCertificates) {}

  /** Called with the certificates' new trust: what was verified under the old one is forgotten. */
  clear(): void {
    this.cache.clear();
  }

  verify(code: TransportCode): VerifiedAccount {
    const cacheKey = createHash('sha256').update(Uint8Array.of(code.version)).update(code.accountSigned).update(code.accountSignature).digest('base64');
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const certificate = this.certificates.verify(code.version, code.certificate);
    const { account } = code;
    const what = `transport code: account ${account.accountNumber}`;
    if (!certificate.key.verify(code.accountSigned, code.accountSignature, accountUserId(code.version, account.organisation, account.platform))) {
      refuse('bad-signature', `${what}: the issuer's SM2 signature over the account does not verify`);
    }
    let userKey: Sm2PublicKey;
    try {
      userKey = Sm2PublicKey.parse(account.userKey);
    } catch (error) {
      if (!(error instanceof Sm2KeyError)) throw error;
      return refuse('bad-signature', `${what}: the user key the issuer signed is not a point of the SM2 curve`);
    }
    const verified = { certificate, userKey };
    this.cache.set(cacheKey, verified);
    return verified;
  }
}
