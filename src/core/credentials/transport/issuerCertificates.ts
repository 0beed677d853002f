import { createHash } from 'node:crypto';
import { Sm2KeyError, Sm2PublicKey } from '../../crypto/sm2.js';
import { localTime } from '../../policy/localTime.js';
import { refuse } from '../../reasons.js';
import { monthExpired } from '../emv/cardDate.js';
import { VerifiedCache } from '../verifiedCache.js';
import type { IssuerCertificateFields, TransportVersion } from './layout.js';
import type { TransportTrust } from './transportTrust.js';
import { certificateUserId } from './userIds.js';

/** An issuer certificate whose root signature verified. */
export interface VerifiedIssuerCertificate {
  issuerId: string;
  rootIndex: number;
  expiry: { year: number; month: number };
  serial: string;
  /** Parsed once: the issuer key verifies the account data of every new rider of this issuer. */
  key: Sm2PublicKey;
}

/** Issuer certificates are few: a gate sees the platforms of its region and some from elsewhere. */
const CERTIFICATE_CACHE = 1_000;

/**
 * Verifies issuer certificates against the trust list's transport roots and
 * remembers the ones that verified by a hash of their bytes and version (the
 * version decides the user id of the root's signature). A new trust list
 * empties the cache; the expiry is checked on every code
 * ({@link checkCertificateExpiry}), so a cached certificate expires too.
 */
export class IssuerCertificates {
  private readonly cache = new VerifiedCache<VerifiedIssuerCertificate>(CERTIFICATE_CACHE);

  constructor(private trust: TransportTrust | undefined) {}

  setTrust(trust: TransportTrust | undefined): void {
    this.trust = trust;
    this.cache.clear();
  }

  /** `unknown-key` (no such root), `unknown-issuer` (issuer not taken here), `bad-signature`. */
  verify(version: TransportVersion, fields: IssuerCertificateFields): VerifiedIssuerCertificate {
    const what = `transport code: issuer certificate ${fields.issuerId} serial ${fields.serial}`;
    const trust = this.trust;
    if (!trust) refuse('unknown-key', 'transport code: the trust list has no transport object, so this gate takes no transport QR codes');
    const root = trust.root(fields.rootIndex);
    if (!root) refuse('unknown-key', `transport code: root CA index ${fields.rootIndex} is not in the trust list`);
    if (!trust.issuerAllowed(fields.issuerId)) refuse('unknown-issuer', `transport code: issuer ${fields.issuerId} is not in the trust list's transport issuers`);
    const cacheKey = createHash('sha256').update(Uint8Array.of(version)).update(fields.bytes).digest('base64');
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    if (!root.verify(fields.signed, fields.signature, certificateUserId(version, fields))) refuse('bad-signature', `${what}: the root's SM2 signature does not verify`);
    let key: Sm2PublicKey;
    try {
      key = Sm2PublicKey.parse(fields.issuerKey);
    } catch (error) {
      if (!(error instanceof Sm2KeyError)) throw error;
      return refuse('bad-signature', `${what}: the certified key is not a point of the SM2 curve`);
    }
    const verified = { issuerId: fields.issuerId, rootIndex: fields.rootIndex, expiry: fields.expiry, serial: fields.serial, key };
    this.cache.set(cacheKey, verified);
    return verified;
  }
}

/** The local year and month of a minute, cached: formatting a date takes longer than the rest of the check. */
let monthCache: { minute: number; timeZone: string; today: { year: number; month: number; day: number } } | undefined;

function today(nowMs: number, timeZone: string): { year: number; month: number; day: number } {
  const minute = Math.floor(nowMs / 60_000);
  if (monthCache?.minute !== minute || monthCache.timeZone !== timeZone) {
    const [year, month, day] = localTime(nowMs, timeZone).date.split('-').map(Number) as [number, number, number];
    monthCache = { minute, timeZone, today: { year, month, day } };
  }
  return monthCache.today;
}

/** `expired` after the end of the certificate's MMYY month, in the gate's time zone (as bank-card certificates). */
export function checkCertificateExpiry(certificate: VerifiedIssuerCertificate, nowMs: number, timeZone: string): void {
  const { year, month } = certificate.expiry;
  if (monthExpired(year, month, today(nowMs, timeZone))) {
    refuse('expired', `transport code: issuer certificate ${certificate.issuerId} serial ${certificate.serial} expired at the end of ${String(month).padStart(2, '0')}/${year}`);
  }
}
