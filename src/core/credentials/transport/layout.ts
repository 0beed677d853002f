import { refuse } from '../../reasons.js';

/*
 * The national transport QR code (交通一卡通二维码), a fixed binary layout
 * (CARDS.md §4; the open reader fengyuruhui98/File shapi/qr_jtb.h). Offsets
 * are from the first byte; integers are big-endian; D is the length of the
 * issuer-defined field (0..32):
 *
 *   0   version: 80 interoperable, 81 local
 *   1   length (2): the bytes after it, 329 + D
 *   3   issuer certificate (117):
 *         24 | service id 01010000 (4) | root CA index | 12 | issuer id (4) |
 *         expiry MMYY (BCD) | serial (3) | 04 | 04 | param | 21 | issuer key (33) | r‖s
 *       the root signs from the 12 through the key
 *   120 payment account (16) | account number (10) | issuing organisation (4) |
 *       platform (4) | account type | single-trip limit (3, fen) | user key (33) |
 *       authorisation expiry (4, epoch s) | QR validity (2, s) | D
 *   198 issuer-defined field (D)
 *   198+D issuer's signature (65): one byte, then r‖s; over bytes 3 .. 198+D
 *   263+D generation time (4, epoch s)
 *   267+D user's signature (65): one byte, then r‖s; over bytes 0 .. 267+D
 *
 * The first byte of each 65-byte signature field is covered by no signature
 * and the open reader skips it; so does this parser (docs/credentials.md).
 */

export const VERSION_INTEROPERABLE = 0x80;
export const VERSION_LOCAL = 0x81;
export type TransportVersion = typeof VERSION_INTEROPERABLE | typeof VERSION_LOCAL;

export const CERTIFICATE_BYTES = 117;
export const MAX_DEFINED_BYTES = 32;
export const MIN_CODE_BYTES = 332;
export const MAX_CODE_BYTES = MIN_CODE_BYTES + MAX_DEFINED_BYTES;
/** Fixed bytes of the certificate: record header, format, the key's signature algorithm (SM2), its length. */
export const CERTIFICATE_HEADER = 0x24;
export const CERTIFICATE_FORMAT = 0x12;
export const SM2_ALGORITHM = 0x04;
export const COMPRESSED_KEY_BYTES = 33;
/** 交通电子现金应用: the only service the layout defines. */
export const TRANSPORT_SERVICE_ID = Uint8Array.of(0x01, 0x01, 0x00, 0x00);

const SIGNATURE_FIELD = 65;
const CERTIFICATE_AT = 3;
const ACCOUNT_AT = CERTIFICATE_AT + CERTIFICATE_BYTES;
const DEFINED_AT = 198;

export interface IssuerCertificateFields {
  /** The 117 bytes as they are in the code. */
  bytes: Uint8Array;
  serviceId: Uint8Array;
  rootIndex: number;
  /** Issuer id (发码机构标识), 4 bytes as 8 upper-case hex digits: what the trust list names. */
  issuerId: string;
  /** Valid through the end of this month. */
  expiry: { year: number; month: number };
  /** 3 bytes, upper-case hex. */
  serial: string;
  /** What the root signed: the format byte through the issuer key. */
  signed: Uint8Array;
  /** r‖s */
  signature: Uint8Array;
  /** 02/03‖X */
  issuerKey: Uint8Array;
}

/** The account fields the issuer signs (with the certificate before them and the defined field after). */
export interface AccountFields {
  /** 支付账户号, 16 bytes, upper-case hex. */
  paymentAccount: string;
  /** 用户帐户号, 10 bytes, upper-case hex: the account the gate journals as subject. */
  accountNumber: string;
  accountNumberBytes: Uint8Array;
  /** 发码机构号 and 发码平台编号, 4 bytes each: the local version's issuer user id. */
  organisation: Uint8Array;
  platform: Uint8Array;
  /** 卡账户类型 (JT/T 978.3). */
  accountType: number;
  /** 单次消费金额上限, fen. */
  limitFen: number;
  /** 02/03‖X */
  userKey: Uint8Array;
  /** 用户帐户系统授权过期时间, epoch seconds. */
  authorisedUntil: number;
  /** 二维码有效时间, seconds after the generation time. */
  validSec: number;
  /** 发码机构自定义域 */
  defined: Uint8Array;
}

export interface TransportCode {
  version: TransportVersion;
  bytes: Uint8Array;
  certificate: IssuerCertificateFields;
  account: AccountFields;
  /** Bytes the issuer signed: the certificate through the defined field. */
  accountSigned: Uint8Array;
  accountSignature: Uint8Array;
  /** Epoch seconds. */
  generatedAt: number;
  /** Bytes the user signed: everything before the user's signature field. */
  userSigned: Uint8Array;
  userSignature: Uint8Array;
}

/** Whether bytes claim to be a transport code (their version byte); the parser then says whether they are one. */
export function looksLikeTransportCode(bytes: Uint8Array): boolean {
  return bytes.length > 0 && (bytes[0] === VERSION_INTEROPERABLE || bytes[0] === VERSION_LOCAL);
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

function uint(bytes: Uint8Array, at: number, length: number): number {
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + bytes[at + i]!;
  return value;
}

/** A BCD byte's value, or undefined when a nibble is not a digit. */
function bcd(byte: number): number | undefined {
  const high = byte >> 4;
  const low = byte & 0x0f;
  return high > 9 || low > 9 ? undefined : high * 10 + low;
}

function byteText(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

function parseCertificate(bytes: Uint8Array): IssuerCertificateFields {
  const what = 'transport code: issuer certificate';
  if (bytes[0] !== CERTIFICATE_HEADER) refuse('malformed', `${what}: header ${byteText(bytes[0]!)}, expected 24`);
  const serviceId = bytes.subarray(1, 5);
  if (!serviceId.every((b, i) => b === TRANSPORT_SERVICE_ID[i])) refuse('malformed', `${what}: service id ${hexOf(serviceId)}, expected 01010000`);
  if (bytes[6] !== CERTIFICATE_FORMAT) refuse('malformed', `${what}: format ${byteText(bytes[6]!)}, expected 12`);
  if (bytes[16] !== SM2_ALGORITHM) refuse('malformed', `${what}: key signature algorithm ${byteText(bytes[16]!)}, expected 04 (SM2)`);
  if (bytes[19] !== COMPRESSED_KEY_BYTES) refuse('malformed', `${what}: key length ${bytes[19]}, expected 33`);
  const month = bcd(bytes[11]!);
  const yy = bcd(bytes[12]!);
  if (month === undefined || yy === undefined || month < 1 || month > 12) refuse('malformed', `${what}: expiry ${hexOf(bytes.subarray(11, 13))} is not MMYY`);
  return {
    bytes,
    serviceId,
    rootIndex: bytes[5]!,
    issuerId: hexOf(bytes.subarray(7, 11)),
    expiry: { year: 2000 + yy, month },
    serial: hexOf(bytes.subarray(13, 16)),
    signed: bytes.subarray(6, 53),
    signature: bytes.subarray(53, CERTIFICATE_BYTES),
    issuerKey: bytes.subarray(20, 53),
  };
}

function parseAccount(bytes: Uint8Array, definedLength: number): AccountFields {
  const a = ACCOUNT_AT;
  return {
    paymentAccount: hexOf(bytes.subarray(a, a + 16)),
    accountNumber: hexOf(bytes.subarray(a + 16, a + 26)),
    accountNumberBytes: bytes.subarray(a + 16, a + 26),
    organisation: bytes.subarray(a + 26, a + 30),
    platform: bytes.subarray(a + 30, a + 34),
    accountType: bytes[a + 34]!,
    limitFen: uint(bytes, a + 35, 3),
    userKey: bytes.subarray(a + 38, a + 71),
    authorisedUntil: uint(bytes, a + 71, 4),
    validSec: uint(bytes, a + 75, 2),
    defined: bytes.subarray(DEFINED_AT, DEFINED_AT + definedLength),
  };
}

/**
 * The fields of a transport code, as views into `bytes`; `malformed` for
 * anything that is not this layout exactly (a code shorter or longer than its
 * length field and defined field say is truncated or padded, not a code).
 */
export function parseTransportCode(bytes: Uint8Array): TransportCode {
  if (!(bytes instanceof Uint8Array)) refuse('malformed', 'transport code: not bytes');
  if (!looksLikeTransportCode(bytes)) refuse('malformed', `binary code with version byte ${bytes.length ? byteText(bytes[0]!) : 'none'}, not 80 or 81`);
  if (bytes.length < MIN_CODE_BYTES) refuse('malformed', `transport code of ${bytes.length} bytes, at least ${MIN_CODE_BYTES} expected (truncated)`);
  const declared = uint(bytes, 1, 2);
  if (declared !== bytes.length - 3) refuse('malformed', `transport code: length field says ${declared} bytes follow it, ${bytes.length - 3} do`);
  const definedLength = bytes[DEFINED_AT - 1]!;
  if (definedLength > MAX_DEFINED_BYTES) refuse('malformed', `transport code: issuer-defined field of ${definedLength} bytes, at most ${MAX_DEFINED_BYTES}`);
  if (bytes.length !== MIN_CODE_BYTES + definedLength) {
    refuse('malformed', `transport code of ${bytes.length} bytes, ${MIN_CODE_BYTES + definedLength} expected with an issuer-defined field of ${definedLength}`);
  }
  const issuerSignatureAt = DEFINED_AT + definedLength;
  const generatedAt = issuerSignatureAt + SIGNATURE_FIELD;
  const userSignatureAt = generatedAt + 4;
  return {
    version: bytes[0] as TransportVersion,
    bytes,
    certificate: parseCertificate(bytes.subarray(CERTIFICATE_AT, ACCOUNT_AT)),
    account: parseAccount(bytes, definedLength),
    accountSigned: bytes.subarray(CERTIFICATE_AT, issuerSignatureAt),
    accountSignature: bytes.subarray(issuerSignatureAt + 1, generatedAt),
    generatedAt: uint(bytes, generatedAt, 4),
    userSigned: bytes.subarray(0, userSignatureAt),
    userSignature: bytes.subarray(userSignatureAt + 1),
  };
}
