import { randomBytes } from 'node:crypto';
import type { EmvKey } from './emvKey.js';
import { rsaIssuerCertificate, type IssuerCertificateFields } from './rsaCertificates.js';
import { makeRsaKey, rsaExponent, rsaModulus } from './rsaKeys.js';
import { sm2IssuerCertificate } from './sm2Certificates.js';
import { sm2PublicKey, sm2RandomPrivateKey } from './sm2Signer.js';
import type { TestCa } from './testCa.js';

/** A card issuer under a test CA: its key and the certificate the CA gave it (`90`, with `92`/`9F32` for RSA). */
export interface CardIssuer {
  /** The CA, by RID and index `8F`. */
  ca: { rid: string; index: string };
  /** The first six PAN digits of every card this issuer makes. */
  bin: string;
  key: EmvKey;
  certificate: Buffer;
  /** `92`; empty when the key fits in the certificate or for SM2. */
  remainder: Buffer;
  /** `9F32`; empty for SM2. */
  exponent: Buffer;
}

export interface CardIssuerOptions {
  /** Default 622800, the BIN of the published UnionPay test card. */
  bin?: string;
  /** Issuer certificate expiry MMYY, default 1249. */
  certExpiry?: string;
  /** RSA issuer key bits, at least 1024 (the cards' keys); default the CA's, so the certificate needs a remainder. */
  bits?: number;
}

export function makeCardIssuer(ca: TestCa, options: CardIssuerOptions = {}): CardIssuer {
  const bin = options.bin ?? '622800';
  if (!/^\d{6}$/.test(bin)) throw new Error(`BIN ${JSON.stringify(bin)}: expected six digits`);
  const fields: IssuerCertificateFields = { issuerId: `${bin}FF`, expiry: options.certExpiry ?? '1249', serial: randomBytes(3).toString('hex') };
  const ref = { rid: ca.rid, index: ca.index };
  if (ca.key.algorithm === 'SM2') {
    const key = { algorithm: 'SM2' as const, key: sm2RandomPrivateKey() };
    const certificate = sm2IssuerCertificate(ca.key.key, sm2PublicKey(key.key), fields);
    return { ca: ref, bin, key, certificate, remainder: Buffer.alloc(0), exponent: Buffer.alloc(0) };
  }
  const key = { algorithm: 'RSA' as const, key: makeRsaKey(options.bits ?? rsaModulus(ca.key.key).length * 8, 3) };
  const exponent = rsaExponent(key.key);
  const { certificate, remainder } = rsaIssuerCertificate(ca.key.key, rsaModulus(key.key), exponent, fields);
  return { ca: ref, bin, key, certificate, remainder, exponent };
}
