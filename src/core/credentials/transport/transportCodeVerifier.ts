import { createHash } from 'node:crypto';
import { asIdentified, refuse } from '../../reasons.js';
import { DEFAULT_TIMEZONE } from '../../settings.js';
import type { Credential } from '../credential.js';
import type { TrustStore } from '../trustList.js';
import type { CheckTime } from '../validity.js';
import { Accounts } from './accounts.js';
import { checkCertificateExpiry, IssuerCertificates } from './issuerCertificates.js';
import { parseTransportCode, type TransportCode } from './layout.js';
import { categoryOfAccountType, TRANSPORT_ISSUER } from './transportIssuer.js';
import { codeUserId } from './userIds.js';

export interface TransportCheckTime extends CheckTime {
  /** For the issuer certificate's expiry month; default Asia/Shanghai. */
  timezone?: string | undefined;
}

/**
 * The replay key of a transport code: `code:` and a hash of the user's
 * signature, which only the rider's phone can produce and nobody can compute
 * before the code is shown (an SM2 signature, unlike ECDSA's, has no second
 * form anyone could derive from it). Shaped like an offline CG1 code's key,
 * so the gates of a site share it the same way.
 */
export function transportCodeKey(userSignature: Uint8Array): string {
  return `code:${createHash('sha256').update('citygate transport code\0').update(userSignature).digest('base64url')}`;
}

/**
 * Verifies a national transport QR code (CARDS.md §4), both versions, offline:
 * the issuer certificate with the root the trust list names by index, the
 * issuer's signature over the account, the times, the user's signature.
 * Certificates and accounts that verified are cached, so a regular rider's
 * code costs one SM2 verification. Returns the credential or throws a Refusal
 * (order of checks: docs/credentials.md).
 */
export class TransportCodeVerifier {
  private readonly certificates: IssuerCertificates;
  private readonly accounts: Accounts;

  constructor(trust: TrustStore) {
    this.certificates = new IssuerCertificates(trust.transport);
    this.accounts = new Accounts(this.certificates);
  }

  setTrust(trust: TrustStore): void {
    this.certificates.setTrust(trust.transport);
    this.accounts.clear();
  }

  verify(bytes: Uint8Array, time: TransportCheckTime): Credential {
    const code = parseTransportCode(bytes);
    const { certificate, userKey } = this.accounts.verify(code);
    const { account } = code;
    const identity = { issuer: TRANSPORT_ISSUER, subject: account.accountNumber, category: categoryOfAccountType(account.accountType) };
    asIdentified(identity, () => {
      checkCertificateExpiry(certificate, time.nowMs, time.timezone ?? DEFAULT_TIMEZONE);
      const until = account.authorisedUntil;
      if (time.nowMs / 1000 >= until + time.skewSec) refuse('expired', `transport code: the account's authorisation expired at ${until}`);
      // The generation time is the phone's word: checked only once the phone's signature over it verified.
      if (!userKey.verify(code.userSigned, code.userSignature, codeUserId(code.version, account.accountNumberBytes))) {
        refuse('bad-signature', `transport code: the user's SM2 signature does not verify`);
      }
      checkGenerationTime(code, time);
    });
    return {
      kind: 'code',
      profile: 'transport',
      ...identity,
      product: undefined,
      cti: undefined,
      replay: { key: transportCodeKey(code.userSignature), until: (code.generatedAt + account.validSec + time.skewSec) * 1000 },
      fareLimit: account.limitFen,
    };
  }
}

/**
 * A code generated after the issuer's authorisation of the phone key ended is
 * `expired`; else it is valid for its own validity from its generation time,
 * the gate's skew forgiven at both ends.
 */
function checkGenerationTime(code: TransportCode, time: CheckTime): void {
  const now = time.nowMs / 1000;
  const { generatedAt } = code;
  const { validSec, authorisedUntil } = code.account;
  if (generatedAt > authorisedUntil) refuse('expired', `transport code generated at ${generatedAt}, after the account's authorisation expired at ${authorisedUntil}`);
  if (generatedAt > now + time.skewSec) refuse('not-yet-valid', `transport code generated in the future (${generatedAt})`);
  if (now > generatedAt + validSec + time.skewSec) refuse('stale', `transport code generated at ${generatedAt}, valid for ${validSec} s`);
}
