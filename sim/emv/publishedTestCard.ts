import type { BankCardImage } from './bankCardImage.js';
import type { CapkEntry } from './capkFile.js';
import {
  PUBLISHED_AC_KEY,
  PUBLISHED_CONTACTLESS_FCI,
  PUBLISHED_CONTACTLESS_GPO,
  PUBLISHED_COUNTERS,
  PUBLISHED_ICC_RSA_KEY,
  PUBLISHED_RECORDS,
  UNIONPAY_TEST_CA,
} from './publishedTestCardData.js';
import { hex, tlv } from './tlvEncoder.js';
import { VirtualBankCard } from './virtualBankCard.js';

/*
 * The public UnionPay test card (publishedTestCardData.ts): its records byte
 * for byte, the contactless GPO data of DGI 9207, and fDDA signatures made
 * with its published ICC private key, under the UnionPay test CA index 80.
 * Its contactless AFL counts no record for offline data authentication, and
 * the ICC certificate's hash indeed covers no static data.
 */

/** The script personalises instance A0000003330101 with the label "PBOC Credit": the UnionPay credit AID. */
export const PUBLISHED_TEST_AID = 'A000000333010102';

/** The CAPK file entry of the UnionPay test CA. */
export const UNIONPAY_TEST_CAPK: CapkEntry = {
  rid: UNIONPAY_TEST_CA.rid,
  index: UNIONPAY_TEST_CA.index,
  algorithm: 'RSA',
  modulus: UNIONPAY_TEST_CA.modulus,
  exponent: UNIONPAY_TEST_CA.exponent,
  expiry: UNIONPAY_TEST_CA.expiry,
  checksum: UNIONPAY_TEST_CA.checksum,
};

export function publishedTestCard(): VirtualBankCard {
  return new VirtualBankCard(publishedTestCardImage());
}

export function publishedTestCardImage(): BankCardImage {
  const records = Object.entries(PUBLISHED_RECORDS).map(([dgi, items]) => ({
    sfi: Number.parseInt(dgi.slice(0, 2), 16),
    record: Number.parseInt(dgi.slice(2), 16),
    template: tlv('70', ...items.map(([tag, value]) => tlv(tag, hex(value)))).toString('hex').toUpperCase(),
  }));
  return {
    atr: '3B80800101',
    ppse: true,
    applications: [
      {
        aid: PUBLISHED_TEST_AID,
        label: hex(PUBLISHED_CONTACTLESS_FCI.label).toString('ascii'),
        priority: Number.parseInt(PUBLISHED_CONTACTLESS_FCI.priority, 16),
        pdol: PUBLISHED_CONTACTLESS_FCI.pdol,
      },
    ],
    gpo: PUBLISHED_CONTACTLESS_GPO,
    records,
    track2: published('0101', '57'),
    psn: PUBLISHED_COUNTERS.psn,
    ctq: PUBLISHED_COUNTERS.ctq,
    offlineSpending: PUBLISHED_COUNTERS.offlineSpending,
    atc: PUBLISHED_COUNTERS.atc,
    cardAuthData: published('0303', '9F69'),
    iccKey: { algorithm: 'RSA', privateKey: iccJwk() },
    acKey: PUBLISHED_AC_KEY,
  };
}

function published(dgi: string, tag: string): string {
  const found = PUBLISHED_RECORDS[dgi]?.find(([t]) => t === tag);
  if (!found) throw new Error(`published DGI ${dgi} has no ${tag}`);
  return found[1];
}

/** The ICC key as a JWK: the CRT parts unpadded, n = p q, e = 65537 (9F47), d = e^-1 mod (p-1)(q-1). */
function iccJwk(): Record<string, string> {
  const part = (name: keyof typeof PUBLISHED_ICC_RSA_KEY): bigint => BigInt(`0x${unpad(PUBLISHED_ICC_RSA_KEY[name])}`);
  const [p, q] = [part('p'), part('q')];
  const e = 65537n;
  const d = inverse(e, (p - 1n) * (q - 1n));
  const b64 = (value: bigint): string => Buffer.from(value.toString(16).padStart(Math.ceil(value.toString(16).length / 2) * 2, '0'), 'hex').toString('base64url');
  return { kty: 'RSA', n: b64(p * q), e: b64(e), d: b64(d), p: b64(p), q: b64(q), dp: b64(part('dp')), dq: b64(part('dq')), qi: b64(part('qInv')) };
}

/** Removes ISO 9797-1 method 2 padding: trailing 00s, then the 80 before them. */
function unpad(padded: string): string {
  const bytes = hex(padded);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0x00) end--;
  if (bytes[end - 1] !== 0x80) throw new Error('published key part is not padded 80 00..');
  return bytes.subarray(0, end - 1).toString('hex');
}

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const quotient = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - quotient * r1, s1, s0 - quotient * s1];
  }
  return ((s0 % m) + m) % m;
}
