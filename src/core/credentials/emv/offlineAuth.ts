import { createHash } from 'node:crypto';
import { refuse } from '../../reasons.js';
import { Sm2PublicKey } from '../../crypto/sm2.js';
import { VerifiedCache } from '../verifiedCache.js';
import { compareDates, dateText, monthExpired, type CardDate } from './cardDate.js';
import type { CardData } from './cardRecords.js';
import type { CaKey, CaKeyStore } from './capk.js';
import { RevocationList } from './revocationList.js';
import { recoverDynamicData, recoverIccKey, recoverIssuerKey, type IccPublicKey, type IssuerPublicKey } from './rsaCertificates.js';
import { verifySm2DynamicSignature, verifySm2IccCertificate, verifySm2IssuerCertificate, type Sm2IccCertificate, type Sm2IssuerCertificate } from './sm2Certificates.js';
import type { TerminalData } from './terminalData.js';

export interface OdaResult {
  oda: 'rsa' | 'sm2';
  /** The ATC the card signed; it equals `9F36`. */
  atc: number;
}

type IssuerKey = { rsa: IssuerPublicKey } | { sm2: Sm2IssuerCertificate };
type IccKey = { rsa: IccPublicKey } | { sm2: Sm2IccCertificate };

/**
 * fDDA (JR/T 0025.12 Annex B; SM2: JR/T 0025.17): the CA key by RID and
 * index, the issuer certificate, the ICC certificate over the card's static
 * data, then the card's signature over this tap's unpredictable number.
 * Issuer and ICC certificates are cached by a hash of everything they were
 * checked against, so a regular card costs one signature check: its dynamic
 * one. Dates and the revocation list are checked on every tap.
 */
export class OfflineAuthenticator {
  private readonly issuers = new VerifiedCache<IssuerKey>(1_000);
  private readonly iccs = new VerifiedCache<IccKey>(20_000);

  constructor(
    private readonly capk: CaKeyStore,
    private revocations: RevocationList = RevocationList.EMPTY,
  ) {}

  setRevocations(list: RevocationList): void {
    this.revocations = list;
  }

  authenticate(card: CardData, rid: string, pan: string, terminal: TerminalData): OdaResult {
    const index = card.need(0x8f, 'CA public key index');
    if (index.length !== 1) refuse('malformed', `CA public key index (8F) of ${index.length} bytes`);
    const indexHex = hex(index);
    const ca = this.capk.find(rid, indexHex);
    if (!ca) refuse('unknown-key', `no CA public key ${rid} index ${indexHex} in the CAPK file`);
    if (compareDates(terminal.today, ca.expiry) > 0) refuse('expired', `CA public key ${rid} index ${indexHex} expired on ${dateText(ca.expiry)}`);

    const staticData = card.staticData();
    const issuer = this.issuerKey(ca, card, pan, terminal.today);
    const serial = 'rsa' in issuer ? issuer.rsa.serial : issuer.sm2.serial;
    if (this.revocations.isRevoked(rid, indexHex, serial)) refuse('certificate-revoked', `issuer certificate ${rid} ${indexHex} ${serial} is revoked`);
    const icc = this.iccKey(issuer, card, pan, staticData, terminal.today);

    const sdad = card.need(0x9f4b, 'signed dynamic application data');
    const signedAtc = 'rsa' in icc ? rsaAtc(icc.rsa, sdad, fddaInput(card, terminal)) : verifySm2DynamicSignature(icc.sm2, sdad, fddaInput(card, terminal)).atc;
    const atc = counter(card.need(0x9f36, 'application transaction counter'));
    if (signedAtc !== atc) refuse('card-auth-failed', `the card signed ATC ${signedAtc} but gave ${atc} (9F36)`);
    return { oda: 'rsa' in icc ? 'rsa' : 'sm2', atc };
  }

  private issuerKey(ca: CaKey, card: CardData, pan: string, today: CardDate): IssuerKey {
    const certificate = card.need(0x90, 'issuer public key certificate');
    const remainder = card.get(0x92);
    const exponent = card.get(0x9f32);
    const key = digest(ca.rid, ca.index, certificate, remainder, exponent);
    const cached = this.issuers.get(key);
    if (cached) {
      const held = 'rsa' in cached ? cached.rsa : cached.sm2;
      if (!pan.startsWith(held.issuerId)) refuse('bad-signature', `issuer certificate (90) is for issuer ${held.issuerId}, not this card's`);
      if (monthExpired(held.expiry.year, held.expiry.month, today)) refuse('expired', `issuer certificate (90) expired in ${monthText(held.expiry)}`);
      return cached;
    }
    let issuer: IssuerKey;
    if (ca.algorithm === 'RSA') {
      if (!ca.rsa || !exponent) refuse('malformed', 'an RSA issuer certificate needs its exponent (9F32)');
      issuer = { rsa: recoverIssuerKey(ca.rsa, { certificate, remainder, exponent, pan }, today) };
    } else {
      if (!ca.sm2PublicKey) refuse('unknown-key', `CA public key ${ca.rid} ${ca.index} has no SM2 key`);
      issuer = { sm2: verifySm2IssuerCertificate(Sm2PublicKey.fixed(ca.sm2PublicKey), certificate, pan, today) };
    }
    this.issuers.set(key, issuer);
    return issuer;
  }

  private iccKey(issuer: IssuerKey, card: CardData, pan: string, staticData: Uint8Array, today: CardDate): IccKey {
    const certificate = card.need(0x9f46, 'ICC public key certificate');
    const remainder = card.get(0x9f48);
    const exponent = card.get(0x9f47);
    const issuerKey = 'rsa' in issuer ? issuer.rsa.key.modulus : issuer.sm2.key.uncompressed;
    const key = digest(issuerKey, certificate, remainder, exponent, staticData, Buffer.from(pan));
    const cached = this.iccs.get(key);
    if (cached) {
      const held = 'rsa' in cached ? cached.rsa : cached.sm2;
      if (monthExpired(held.expiry.year, held.expiry.month, today)) refuse('expired', `ICC certificate (9F46) expired in ${monthText(held.expiry)}`);
      return cached;
    }
    let icc: IccKey;
    if ('rsa' in issuer) {
      if (!exponent) refuse('malformed', 'an RSA ICC certificate needs its exponent (9F47)');
      icc = { rsa: recoverIccKey(issuer.rsa, { certificate, remainder, exponent, pan, staticData }, today) };
    } else {
      icc = { sm2: verifySm2IccCertificate(issuer.sm2, certificate, staticData, pan, today) };
    }
    this.iccs.set(key, icc);
    return icc;
  }
}

/**
 * What the card signs besides its own data: fDDA version 00 the unpredictable
 * number; version 01 (first byte of `9F69` is 01) also amount, currency and
 * `9F69` itself. The SM2 variant follows the same versions (CARDS.md §1 gives
 * the version 01 data for it).
 */
function fddaInput(card: CardData, terminal: TerminalData): Uint8Array {
  const un = terminal.values.get(0x9f37)!;
  const related = card.get(0x9f69);
  if (related?.[0] !== 0x01) return un;
  return Buffer.concat([un, terminal.values.get(0x9f02)!, terminal.values.get(0x5f2a)!, related]);
}

/** For fDDA the ICC dynamic number is the ATC (two bytes). */
function rsaAtc(icc: IccPublicKey, sdad: Uint8Array, input: Uint8Array): number {
  const { iccDynamicNumber } = recoverDynamicData(icc, sdad, input);
  if (iccDynamicNumber.length !== 2) refuse('card-auth-failed', `signed dynamic data holds a dynamic number of ${iccDynamicNumber.length} bytes, not the 2-byte ATC`);
  return counter(iccDynamicNumber);
}

function counter(value: Uint8Array): number {
  if (value.length !== 2) refuse('malformed', `application transaction counter of ${value.length} bytes`);
  return (value[0]! << 8) | value[1]!;
}

function digest(...parts: (Uint8Array | string | undefined)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : (part ?? new Uint8Array(0));
    hash.update(Uint8Array.from([bytes.length >> 8, bytes.length & 0xff]));
    hash.update(bytes);
  }
  return hash.digest('hex');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}


function monthText(expiry: { year: number; month: number }): string {
  return `${String(expiry.month).padStart(2, '0')}/${expiry.year}`;
}
