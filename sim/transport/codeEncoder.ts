import { sm2Sign } from '../emv/sm2Signer.js';
import type { Sm2KeyPair } from './transportKeys.js';

/*
 * Encoder of national transport QR codes (交通一卡通二维码) for tests and the
 * simulator, written from the layout (CARDS.md §4, the open reader's
 * qr_jtb.h), not from the gate's parser. Integers big-endian:
 *
 *   version | length (2) | issuer certificate (117) | payment account (16) |
 *   account number (10) | organisation (4) | platform (4) | account type |
 *   limit (3) | user key (33) | authorised until (4) | validity (2) | D |
 *   defined (D) | 04 r‖s (issuer) | generated at (4) | 04 r‖s (user)
 *
 * certificate: 24 | 01010000 | root index | 12 | issuer id (4) | MMYY (BCD) |
 * serial (3) | 04 | 04 | 00 | 21 | issuer key (33) | r‖s (root, over 12..key).
 * The byte before each r‖s is covered by no signature; the tooling writes 04 (SM2).
 */

export const INTEROPERABLE = 0x80;
export const LOCAL = 0x81;
export type Version = typeof INTEROPERABLE | typeof LOCAL;

const DEFAULT_USER_ID = Buffer.from('1234567812345678', 'ascii');
const SERVICE_ID = Buffer.from('01010000', 'hex');
const SIGNATURE_MARK = 0x04;

export interface CertificateSpec {
  version: Version;
  rootIndex: number;
  rootKey: bigint;
  /** 8 hex digits. */
  issuerId: string;
  /** The certificate is valid through the end of this month. */
  expiry: { year: number; month: number };
  /** 6 hex digits. */
  serial: string;
  issuerKey: Sm2KeyPair;
}

export interface AccountSpec {
  /** 32 hex digits. */
  paymentAccount: string;
  /** 20 hex digits. */
  accountNumber: string;
  /** 8 hex digits each. */
  organisation: string;
  platform: string;
  accountType: number;
  limitFen: number;
  userKey: Sm2KeyPair;
  /** Epoch seconds. */
  authorisedUntil: number;
  validSec: number;
  defined: Uint8Array;
}

function bytesOf(hexText: string, length: number, what: string): Buffer {
  if (!new RegExp(`^[0-9A-Fa-f]{${2 * length}}$`).test(hexText)) throw new Error(`${what}: ${length} bytes in hex expected, got ${JSON.stringify(hexText)}`);
  return Buffer.from(hexText, 'hex');
}

function uintBytes(value: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

function bcd(n: number): number {
  return ((Math.floor(n / 10) % 10) << 4) | (n % 10);
}

/** The issuer certificate (117 bytes), signed by the root with the version's user id. */
export function encodeCertificate(spec: CertificateSpec): Buffer {
  const signed = Buffer.concat([
    Buffer.of(0x12),
    bytesOf(spec.issuerId, 4, 'issuer id'),
    Buffer.of(bcd(spec.expiry.month), bcd(spec.expiry.year % 100)),
    bytesOf(spec.serial, 3, 'serial'),
    Buffer.of(0x04, 0x04, 0x00, 0x21),
    spec.issuerKey.compressed,
  ]);
  const userId = spec.version === LOCAL ? Buffer.concat([SERVICE_ID, Buffer.of(spec.rootIndex)]) : DEFAULT_USER_ID;
  return Buffer.concat([Buffer.of(0x24), SERVICE_ID, Buffer.of(spec.rootIndex), signed, sm2Sign(spec.rootKey, signed, { userId })]);
}

/** The fields the issuer signs after the certificate, through the defined field. */
function accountFields(account: AccountSpec): Buffer {
  if (account.defined.length > 32) throw new Error('the issuer-defined field holds at most 32 bytes');
  return Buffer.concat([
    bytesOf(account.paymentAccount, 16, 'payment account'),
    bytesOf(account.accountNumber, 10, 'account number'),
    bytesOf(account.organisation, 4, 'organisation'),
    bytesOf(account.platform, 4, 'platform'),
    Buffer.of(account.accountType),
    uintBytes(account.limitFen, 3),
    account.userKey.compressed,
    uintBytes(account.authorisedUntil, 4),
    uintBytes(account.validSec, 2),
    Buffer.of(account.defined.length),
    account.defined,
  ]);
}

/**
 * A rider's account as the issuer signs it once per authorisation: the
 * certificate, the account fields and the issuer's signature field (65
 * bytes). The phone then adds a generation time and its signature per code.
 */
export function signAccount(version: Version, certificate: Buffer, account: AccountSpec, issuerKey: bigint): Buffer {
  const signed = Buffer.concat([certificate, accountFields(account)]);
  const userId = version === LOCAL ? Buffer.concat([bytesOf(account.organisation, 4, 'organisation'), bytesOf(account.platform, 4, 'platform')]) : DEFAULT_USER_ID;
  return Buffer.concat([signed, Buffer.of(SIGNATURE_MARK), sm2Sign(issuerKey, signed, { userId })]);
}

/** A code: version and length, the signed account, the generation time, the user's signature (the account number its user id in 0x81). */
export function encodeCode(version: Version, signedAccount: Buffer, accountNumber: string, generatedAt: number, userKey: bigint): Buffer {
  const length = signedAccount.length + 4 + 65;
  const signed = Buffer.concat([Buffer.of(version), uintBytes(length, 2), signedAccount, uintBytes(generatedAt, 4)]);
  const userId = version === LOCAL ? bytesOf(accountNumber, 10, 'account number') : DEFAULT_USER_ID;
  return Buffer.concat([signed, Buffer.of(SIGNATURE_MARK), sm2Sign(userKey, signed, { userId })]);
}
