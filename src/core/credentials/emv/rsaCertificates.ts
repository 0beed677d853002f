import { constants, createHash, createPublicKey, publicDecrypt, type KeyObject } from 'node:crypto';
import { refuse, type RefusalReason } from '../../reasons.js';
import { monthExpired, type CardDate } from './cardDate.js';
import { bcdByte, cnDigits, isPan, maskPan } from './pan.js';

/*
 * EMV offline data authentication with RSA, message recovery as EMV Book 2
 * §5.3 (issuer key), §6.3 (ICC key) and §6.5 (signed dynamic data, which
 * qPBOC fDDA uses too) lay it down, with every check of those sections. A
 * certificate that does not verify is `bad-signature`; a dynamic signature
 * that does not is `card-auth-failed`: a clone copies the static data but
 * cannot sign.
 */

export interface RsaPublicKey {
  modulus: Uint8Array;
  exponent: Uint8Array;
}

export interface IssuerPublicKey {
  key: RsaPublicKey;
  /** Leading PAN digits the CA certified the issuer for (3 to 8, F padding removed). */
  issuerId: string;
  /** The certificate is valid through the end of this month. */
  expiry: { year: number; month: number };
  /** Certificate serial number, 3 bytes as upper-case hex. */
  serial: string;
}

export interface IccPublicKey {
  key: RsaPublicKey;
  pan: string;
  expiry: { year: number; month: number };
  serial: string;
}

/** EMV keys: 512 bits at the least any scheme ever used, 1984 (248 bytes) at most (Book 2 §5.1). */
export const MIN_MODULUS_BYTES = 64;
export const MAX_MODULUS_BYTES = 248;
const SHA1_BYTES = 20;
const HEADER = 0x6a;
const TRAILER = 0xbc;
const SHA1_ALGORITHM = 0x01;
const RSA_ALGORITHM = 0x01;

const keyObjects = new WeakMap<RsaPublicKey, KeyObject>();

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

/** The exponents EMV allows (Book 2 §5.1, §6.1): 3 and 2^16 + 1. */
export function isEmvExponent(exponent: Uint8Array): boolean {
  const text = hex(exponent);
  return text === '03' || text === '010001';
}

/**
 * Node's key object for a key, built once per key object: the CA key and an
 * issuer key kept by the caller cost one modular exponentiation per use.
 * Native RSA with RSA_NO_PADDING measured faster than BigInt arithmetic for
 * e = 65537 and as fast for e = 3 (1024..1984 bits).
 */
function keyObject(key: RsaPublicKey, reason: RefusalReason, what: string): KeyObject {
  const cached = keyObjects.get(key);
  if (cached) return cached;
  const { modulus, exponent } = key;
  if (modulus.length < MIN_MODULUS_BYTES || modulus.length > MAX_MODULUS_BYTES) refuse(reason, `${what}: key of ${modulus.length * 8} bits, EMV allows ${MIN_MODULUS_BYTES * 8} to ${MAX_MODULUS_BYTES * 8}`);
  if (modulus[0] === 0 || (modulus[modulus.length - 1]! & 1) === 0) refuse(reason, `${what}: the key's modulus is not an RSA modulus of its length`);
  if (!isEmvExponent(exponent)) refuse(reason, `${what}: key exponent ${hex(exponent)}, not 03 or 010001`);
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  const object = createPublicKey({ key: { kty: 'RSA', n: b64(modulus), e: b64(exponent) }, format: 'jwk' });
  keyObjects.set(key, object);
  return object;
}

/** Raw RSA with the public key (message recovery): block^e mod n, as many bytes as the modulus. */
function rsaRecover(key: RsaPublicKey, block: Uint8Array, reason: RefusalReason, what: string): Uint8Array {
  if (block.length !== key.modulus.length) refuse(reason, `${what} is ${block.length} bytes, the key's modulus ${key.modulus.length}`);
  if (Buffer.compare(block, key.modulus) >= 0) refuse(reason, `${what} is not below the key's modulus`);
  const object = keyObject(key, reason, what);
  try {
    return new Uint8Array(publicDecrypt({ key: object, padding: constants.RSA_NO_PADDING }, block));
  } catch (error) {
    // The checks above leave OpenSSL nothing to object to; should it still, the card is refused, not the tap crashed.
    return refuse(reason, `${what}: RSA failed: ${(error as Error).message}`);
  }
}

function sha1(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Header, format, and trailer around recovered data (Book 2 §5.3 steps 2-4, §6.3, §6.5.2). */
function checkFrame(recovered: Uint8Array, format: number, reason: RefusalReason, what: string): void {
  if (recovered[recovered.length - 1] !== TRAILER) refuse(reason, `${what}: recovered data does not end with BC (wrong key, or not signed by it)`);
  if (recovered[0] !== HEADER) refuse(reason, `${what}: recovered header ${hex(recovered.subarray(0, 1))}, not 6A`);
  if (recovered[1] !== format) refuse(reason, `${what}: format ${hex(recovered.subarray(1, 2))}, not ${hex(Uint8Array.of(format))}`);
}

/** The hash at the end of recovered data: SHA-1 over bytes 1..N-22 and what the certificate covers beside itself. */
function checkHash(recovered: Uint8Array, covered: Uint8Array[], reason: RefusalReason, what: string): void {
  const end = recovered.length - 1 - SHA1_BYTES;
  if (!equalBytes(sha1(recovered.subarray(1, end), ...covered), recovered.subarray(end, end + SHA1_BYTES))) refuse(reason, `${what}: hash does not match`);
}

/** The two certificate layouts (Book 2 tables 6 and 14): what differs is the format and the identifier's length. */
interface Layout {
  what: string;
  format: number;
  /** Issuer identifier (4 bytes) or application PAN (10 bytes). */
  idBytes: number;
  remainderTag: string;
}

const ISSUER: Layout = { what: 'issuer certificate 90', format: 0x02, idBytes: 4, remainderTag: '92' };
const ICC: Layout = { what: 'ICC certificate 9F46', format: 0x04, idBytes: 10, remainderTag: '9F48' };

interface Certified {
  key: RsaPublicKey;
  id: Uint8Array;
  expiry: { year: number; month: number };
  serial: string;
}

interface CertificateInput {
  certificate: Uint8Array;
  remainder?: Uint8Array | undefined;
  exponent: Uint8Array;
}

function certifiedExpiry(recovered: Uint8Array, at: number, what: string): { year: number; month: number } {
  const month = bcdByte(recovered[at]!);
  const yy = bcdByte(recovered[at + 1]!);
  if (month === undefined || yy === undefined || month < 1 || month > 12) refuse('bad-signature', `${what}: expiry ${hex(recovered.subarray(at, at + 2))} is not MMYY`);
  // EMV's rule for two-digit years (as for 9A): 00-49 is 20YY, 50-99 19YY.
  return { year: yy < 50 ? 2000 + yy : 1900 + yy, month };
}

/**
 * Recovers a certificate that carries a public key: every check of Book 2
 * §5.3 / §6.3 but the identifier's, which depends on the kind. `covered` is
 * what the hash covers after the exponent (the ICC certificate: static data).
 */
function recoverCertifiedKey(signer: RsaPublicKey, layout: Layout, input: CertificateInput, covered: Uint8Array[]): Certified {
  const { what } = layout;
  const recovered = rsaRecover(signer, input.certificate, 'bad-signature', what);
  checkFrame(recovered, layout.format, 'bad-signature', what);
  const n = recovered.length;
  const at = 2 + layout.idBytes;
  // at: expiry(2) serial(3) hash algorithm, key algorithm, key length, exponent length, then the key.
  const keyStart = at + 9;
  const room = n - keyStart - SHA1_BYTES - 1;
  const hashAlgorithm = recovered[at + 5]!;
  const keyAlgorithm = recovered[at + 6]!;
  const keyLength = recovered[at + 7]!;
  const exponentLength = recovered[at + 8]!;
  // Indicators before the hash (Book 2 checks the key algorithm last): the detail then names what is wrong.
  if (hashAlgorithm !== SHA1_ALGORITHM) refuse('bad-signature', `${what}: hash algorithm ${hashAlgorithm}, not 1 (SHA-1)`);
  if (keyAlgorithm !== RSA_ALGORITHM) refuse('bad-signature', `${what}: public key algorithm ${keyAlgorithm}, not 1 (RSA)`);
  // NIC <= NI <= NCA (Book 2 §6.1): a key is never longer than the one certifying it.
  if (keyLength < MIN_MODULUS_BYTES || keyLength > n) refuse('bad-signature', `${what}: certifies a key of ${keyLength} bytes under a ${n}-byte key`);
  if (!isEmvExponent(input.exponent) || input.exponent.length !== exponentLength) {
    refuse('bad-signature', `${what}: exponent ${hex(input.exponent)} on the card, certificate says ${exponentLength} byte(s); EMV allows 03 or 010001`);
  }
  const remainder = input.remainder ?? new Uint8Array(0);
  const needed = Math.max(0, keyLength - room);
  if (remainder.length !== needed) {
    refuse('malformed', needed > 0 && remainder.length === 0 ? `key remainder ${layout.remainderTag} missing (${needed} bytes needed)` : `key remainder ${layout.remainderTag} is ${remainder.length} bytes, the certificate needs ${needed}`);
  }
  checkHash(recovered, [remainder, input.exponent, ...covered], 'bad-signature', what);
  const leftmost = recovered.subarray(keyStart, keyStart + Math.min(keyLength, room));
  return {
    key: { modulus: Uint8Array.from(Buffer.concat([leftmost, remainder])), exponent: Uint8Array.from(input.exponent) },
    id: recovered.subarray(2, at),
    expiry: certifiedExpiry(recovered, at, what),
    serial: hex(recovered.subarray(at + 2, at + 5)),
  };
}

function checkPan(pan: string): void {
  if (!isPan(pan)) refuse('malformed', `PAN of ${pan.length} characters, not 8 to 19 digits`);
}

function checkNotExpired(expiry: { year: number; month: number }, today: CardDate, what: string): void {
  if (monthExpired(expiry.year, expiry.month, today)) refuse('expired', `${what} expired at the end of ${String(expiry.month).padStart(2, '0')}/${expiry.year}`);
}

/** Recovers the issuer public key from certificate 90 with the CA key (Book 2 §5.3). */
export function recoverIssuerKey(
  ca: RsaPublicKey,
  input: { certificate: Uint8Array; remainder?: Uint8Array | undefined; exponent: Uint8Array; pan: string },
  today: CardDate,
): IssuerPublicKey {
  checkPan(input.pan);
  const certified = recoverCertifiedKey(ca, ISSUER, input, []);
  const issuerId = cnDigits(certified.id);
  if (issuerId === undefined || issuerId.length < 3) refuse('bad-signature', `${ISSUER.what}: issuer identifier ${hex(certified.id)} is not 3 to 8 digits padded with F`);
  if (!input.pan.startsWith(issuerId)) refuse('bad-signature', `${ISSUER.what}: issuer ${issuerId} does not lead PAN ${maskPan(input.pan)}`);
  checkNotExpired(certified.expiry, today, ISSUER.what);
  return { key: certified.key, issuerId, expiry: certified.expiry, serial: certified.serial };
}

/**
 * Recovers the ICC public key from certificate 9F46 with the issuer key
 * (Book 2 §6.3). `staticData` is what the hash covers after the exponent:
 * the records the AFL marks for offline data authentication (and the AIP
 * when 9F4A lists it), as the caller read them.
 */
export function recoverIccKey(
  issuer: IssuerPublicKey,
  input: { certificate: Uint8Array; remainder?: Uint8Array | undefined; exponent: Uint8Array; pan: string; staticData: Uint8Array },
  today: CardDate,
): IccPublicKey {
  checkPan(input.pan);
  const certified = recoverCertifiedKey(issuer.key, ICC, input, [input.staticData]);
  const pan = cnDigits(certified.id);
  if (pan === undefined) refuse('bad-signature', `${ICC.what}: certifies a PAN that is not digits padded with F`);
  if (pan !== input.pan) refuse('bad-signature', `${ICC.what}: certifies PAN ${maskPan(pan)}, the card's is ${maskPan(input.pan)}`);
  checkNotExpired(certified.expiry, today, ICC.what);
  return { key: certified.key, pan, expiry: certified.expiry, serial: certified.serial };
}

/** An ICC dynamic number is 2 to 8 bytes (Book 2 §6.5.2, table 19). */
const MIN_IDN = 2;
const MAX_IDN = 8;

/**
 * fDDA / DDA signed dynamic data (9F4B, Book 2 §6.5.2): header 6A, format 05,
 * hash algorithm 01, the ICC dynamic data, padding BB, hash, trailer BC;
 * hash = SHA-1(recovered[1 .. N-22] || terminalData). Returns the ICC dynamic
 * data (its length-prefixed ICC dynamic number and anything after). Every
 * failure is `card-auth-failed`.
 */
export function recoverDynamicData(icc: IccPublicKey, sdad: Uint8Array, terminalData: Uint8Array): { dynamicData: Uint8Array; iccDynamicNumber: Uint8Array } {
  const what = 'signed dynamic data 9F4B';
  const recovered = rsaRecover(icc.key, sdad, 'card-auth-failed', what);
  checkFrame(recovered, 0x05, 'card-auth-failed', what);
  if (recovered[2] !== SHA1_ALGORITHM) refuse('card-auth-failed', `${what}: hash algorithm ${recovered[2]}, not 1 (SHA-1)`);
  const length = recovered[3]!;
  // 6A 05 01 Ldd, Ldd bytes of data, the hash and BC: the data must end before the hash.
  if (4 + length > recovered.length - SHA1_BYTES - 1) refuse('card-auth-failed', `${what}: dynamic data of ${length} bytes does not fit a ${recovered.length}-byte signature`);
  checkHash(recovered, [terminalData], 'card-auth-failed', what);
  const dynamicData = recovered.slice(4, 4 + length);
  const idnLength = dynamicData[0];
  if (idnLength === undefined || idnLength < MIN_IDN || idnLength > MAX_IDN || 1 + idnLength > length) {
    refuse('card-auth-failed', `${what}: ICC dynamic number of ${idnLength ?? 0} bytes in ${length} bytes of dynamic data`);
  }
  return { dynamicData, iccDynamicNumber: dynamicData.slice(1, 1 + idnLength) };
}
