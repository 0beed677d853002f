import { sm2Sign } from './sm2Signer.js';
import { hex } from './tlvEncoder.js';
import type { IccCertificateFields, IssuerCertificateFields } from './rsaCertificates.js';

/*
 * SM2 public key certificates of PBOC 3.0 (JR/T 0025.17; layout in CARDS.md
 * §1, checked there on the public personalisation script): no message
 * recovery, the fields in clear and the signature r || s after them.
 *   90:   12 | issuer id(4) | MMYY | serial(3) | 04 00 11 40 | X || Y | r || s
 *   9F46: 14 | PAN(10, F-padded) | MMYY | serial(3) | 04 00 04 40 | X || Y | r || s
 * 04 00 11 40 and 04 00 04 40 are copied from the published certificates (04: SM2 signatures; 40: a 64-byte key).
 */

/** Issuer public key certificate `90`, signed by the CA over the certificate without its signature. */
export function sm2IssuerCertificate(caKey: bigint, issuerPublicKey: Buffer, fields: IssuerCertificateFields): Buffer {
  const body = Buffer.concat([hex('12'), hex(fields.issuerId), hex(fields.expiry), hex(fields.serial), hex('04001140'), issuerPublicKey]);
  return Buffer.concat([body, sm2Sign(caKey, body)]);
}

/** ICC public key certificate `9F46`, signed by the issuer over the certificate without its signature || the static data. */
export function sm2IccCertificate(issuerKey: bigint, iccPublicKey: Buffer, fields: IccCertificateFields): Buffer {
  const body = Buffer.concat([hex('14'), hex(fields.pan.padEnd(20, 'F')), hex(fields.expiry), hex(fields.serial), hex('04000440'), iccPublicKey]);
  return Buffer.concat([body, sm2Sign(issuerKey, Buffer.concat([body, fields.staticData]))]);
}
