import { Sm2KeyError, Sm2PublicKey } from '../../crypto/sm2.js';
import { refuse } from '../../reasons.js';
import { monthExpired, type CardDate } from './cardDate.js';
import { bcdByte, cnDigits, isPan, maskPan } from './pan.js';

/*
 * The SM2 chain of a PBOC 3.0 card (JR/T 0025.17): certificates in clear,
 * each signed with SM2 over SM3 and the default user id; no recovery, no
 * remainder, no exponent. Layouts as two public terminal kernels declare them
 * (SM_IPK_CRTFCT, SM_ICCPK_CRTFCT, SM_SIGN_STAT_APPDATA, SM_SIGN_DYN_APPDATA):
 *
 *   90    12 | issuer id(4) | MMYY | serial(3) | 04 | 00 | param | 40 | X||Y | r||s
 *   9F46  14 | PAN(10)      | MMYY | serial(3) | 04 | 00 | param | 40 | X||Y | r||s
 *   93    13 | DAC(2) | r||s
 *   9F4B  15 | Ldd | ICC dynamic data(Ldd) | r||s
 *
 * After the serial come the key's signature algorithm (04: SM2), its
 * encryption algorithm ("not used, 00") and a curve parameter indicator, then
 * the key length. The kernel code read checks only that length (64) and the
 * total length; the parameter indicator is 11 in a published issuer
 * certificate and 04 in its ICC certificate, so it is not checked here
 * either. The 04 is: it names the algorithm this file verifies with.
 *
 * What each signature covers (checked on a published personalisation script):
 * the item without its signature, and for 9F46 and 93 then the static data
 * of the records the AFL marks for offline data authentication. For 9F4B
 * (CARDS.md §1, an inference): 15 | 03 | 02 ATC | 9F37 | 9F02 | 5F2A | 9F69.
 */

export interface Sm2IssuerCertificate {
  /** Leading PAN digits the CA certified the issuer for (3 to 8, F padding removed). */
  issuerId: string;
  /** Valid through the end of this month. */
  expiry: { year: number; month: number };
  /** Certificate serial number, 3 bytes as upper-case hex. */
  serial: string;
  key: Sm2PublicKey;
}

export interface Sm2IccCertificate {
  pan: string;
  expiry: { year: number; month: number };
  serial: string;
  key: Sm2PublicKey;
}

const SIGNATURE_BYTES = 64;
const KEY_BYTES = 64;
const SM2_ALGORITHM = 0x04;

/** One certificate layout: its name in details, format byte and identifier length. */
interface Layout {
  what: string;
  format: number;
  idBytes: number;
}

const ISSUER: Layout = { what: 'issuer certificate (90)', format: 0x12, idBytes: 4 };
const ICC: Layout = { what: 'ICC certificate (9F46)', format: 0x14, idBytes: 10 };
const STATIC = { what: 'signed static data (93)', format: 0x13 };
const DYNAMIC = { what: 'signed dynamic data (9F4B)', format: 0x15 };
/** fDDA's ICC dynamic data: the ICC dynamic number's length, then that number, the ATC. */
const DYNAMIC_DATA_BYTES = 3;
const ATC_BYTES = 2;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

function hexByte(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function checkBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) refuse('malformed', `${what}: not bytes`);
}

function checkPan(pan: string): void {
  if (typeof pan !== 'string' || !isPan(pan)) refuse('malformed', `PAN of ${typeof pan === 'string' ? pan.length : 0} characters, not 8 to 19 digits`);
}

function checkToday(today: CardDate): void {
  // A bad date would make every expiry comparison false, i.e. accept expired certificates.
  const ok = typeof today === 'object' && today !== null && Number.isInteger(today.year) && Number.isInteger(today.month) && Number.isInteger(today.day);
  if (!ok || today.month < 1 || today.month > 12 || today.day < 1 || today.day > 31) refuse('clock-untrusted', 'today is not a calendar date');
}

function checkNotExpired(expiry: { year: number; month: number }, today: CardDate, what: string): void {
  if (monthExpired(expiry.year, expiry.month, today)) refuse('expired', `${what} expired at the end of ${String(expiry.month).padStart(2, '0')}/${expiry.year}`);
}

/** The signed item split at its signature, after the total length and format byte are checked. */
function split(item: Uint8Array, what: string, format: number, length: number): { body: Uint8Array; signature: Uint8Array } {
  checkBytes(item, what);
  if (item.length !== length) refuse('bad-signature', `${what}: ${item.length} bytes, expected ${length}`);
  if (item[0] !== format) refuse('bad-signature', `${what}: format ${hexByte(item[0]!)}, expected ${hexByte(format)}`);
  return { body: item.subarray(0, length - SIGNATURE_BYTES), signature: item.subarray(length - SIGNATURE_BYTES) };
}

/** The fields of 90 or 9F46 and the signature check with the signer's key; the identifier is left to the caller. */
function verifyCertificate(signer: Sm2PublicKey, layout: Layout, certificate: Uint8Array, covered: Uint8Array, fixedKey: boolean) {
  const { what } = layout;
  const at = 1 + layout.idBytes;
  const { body, signature } = split(certificate, what, layout.format, at + 9 + KEY_BYTES + SIGNATURE_BYTES);
  const algorithm = body[at + 5]!;
  const keyLength = body[at + 8]!;
  if (algorithm !== SM2_ALGORITHM) refuse('bad-signature', `${what}: key signature algorithm ${hexByte(algorithm)}, expected 04 (SM2)`);
  if (keyLength !== KEY_BYTES) refuse('bad-signature', `${what}: key length ${keyLength}, expected ${KEY_BYTES}`);
  const month = bcdByte(body[at]!);
  const yy = bcdByte(body[at + 1]!);
  if (month === undefined || yy === undefined || month < 1 || month > 12) refuse('bad-signature', `${what}: expiry ${hex(body.subarray(at, at + 2))} is not MMYY`);
  if (!signer.verify(concat(body, covered), signature)) refuse('bad-signature', `${what}: SM2 signature does not verify`);
  const xy = body.subarray(at + 9);
  let key: Sm2PublicKey;
  try {
    // An issuer key verifies every card of its bank: worth its tables; a card's own key is used once.
    key = fixedKey ? Sm2PublicKey.fixed(xy) : Sm2PublicKey.parse(xy);
  } catch (error) {
    if (!(error instanceof Sm2KeyError)) throw error;
    return refuse('bad-signature', `${what}: certified key is not a point of the SM2 curve`);
  }
  return {
    id: body.subarray(1, at),
    // Two-digit years as EMV reads them (Book 4 §6.7.3): 00-49 is 20YY.
    expiry: { year: yy < 50 ? 2000 + yy : 1900 + yy, month },
    serial: hex(body.subarray(at + 2, at + 5)),
    key,
  };
}

/** Verifies issuer certificate 90 with the CA's SM2 key and checks it against the PAN (5A) and today. */
export function verifySm2IssuerCertificate(ca: Sm2PublicKey, certificate: Uint8Array, pan: string, today: CardDate): Sm2IssuerCertificate {
  checkPan(pan);
  checkToday(today);
  const what = ISSUER.what;
  const certified = verifyCertificate(ca, ISSUER, certificate, new Uint8Array(0), true);
  const issuerId = cnDigits(certified.id);
  if (issuerId === undefined || issuerId.length < 3) refuse('bad-signature', `${what}: issuer id ${hex(certified.id)} is not 3 to 8 digits padded with F`);
  if (!pan.startsWith(issuerId)) refuse('bad-signature', `${what}: issuer ${issuerId} does not lead PAN ${maskPan(pan)}`);
  checkNotExpired(certified.expiry, today, what);
  return { issuerId, expiry: certified.expiry, serial: certified.serial, key: certified.key };
}

/**
 * Verifies ICC certificate 9F46 with the issuer key. `staticData` is what the
 * signature covers after the certificate: the records the AFL marks for
 * offline data authentication (and the AIP when 9F4A lists it), as read.
 */
export function verifySm2IccCertificate(issuer: Sm2IssuerCertificate, certificate: Uint8Array, staticData: Uint8Array, pan: string, today: CardDate): Sm2IccCertificate {
  checkPan(pan);
  checkToday(today);
  checkBytes(staticData, 'static data');
  const what = ICC.what;
  const certified = verifyCertificate(issuer.key, ICC, certificate, staticData, false);
  const certifiedPan = cnDigits(certified.id);
  if (certifiedPan !== pan) refuse('bad-signature', `${what}: certifies PAN ${certifiedPan === undefined ? 'not in BCD' : maskPan(certifiedPan)}, the card's 5A is ${maskPan(pan)}`);
  checkNotExpired(certified.expiry, today, what);
  return { pan, expiry: certified.expiry, serial: certified.serial, key: certified.key };
}

/** Verifies signed static data 93 (SM2 "SDA") with the issuer key; returns its data authentication code. */
export function verifySm2StaticData(issuer: Sm2IssuerCertificate, signed93: Uint8Array, staticData: Uint8Array): { dac: string } {
  checkBytes(staticData, 'static data');
  const { what, format } = STATIC;
  const { body, signature } = split(signed93, what, format, 3 + SIGNATURE_BYTES);
  if (!issuer.key.verify(concat(body, staticData), signature)) refuse('bad-signature', `${what}: SM2 signature does not verify`);
  return { dac: hex(body.subarray(1)) };
}

/**
 * Verifies SM fDDA's signed dynamic data 9F4B with the ICC key over
 * `terminalData` (9F37 || 9F02 || 5F2A || 9F69, as the caller builds it) and
 * returns the ATC the card signed. A layout error is `bad-signature`; a
 * signature that does not verify is `card-auth-failed`: a clone copies the
 * static data but cannot sign.
 */
export function verifySm2DynamicSignature(icc: Sm2IccCertificate, sdad: Uint8Array, terminalData: Uint8Array): { atc: number } {
  checkBytes(terminalData, 'terminal data');
  const { what, format } = DYNAMIC;
  const { body, signature } = split(sdad, what, format, 2 + DYNAMIC_DATA_BYTES + SIGNATURE_BYTES);
  if (body[1] !== DYNAMIC_DATA_BYTES || body[2] !== ATC_BYTES) {
    refuse('bad-signature', `${what}: dynamic data ${hex(body.subarray(1, 3))}, expected 03 02 (the ATC)`);
  }
  if (!icc.key.verify(concat(body, terminalData), signature)) refuse('card-auth-failed', `${what}: SM2 signature does not verify`);
  return { atc: (body[3]! << 8) | body[4]! };
}
