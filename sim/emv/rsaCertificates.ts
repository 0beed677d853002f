import { createHash, type KeyObject } from 'node:crypto';
import { rsaModulus, rsaSignBlock } from './rsaKeys.js';
import { hex } from './tlvEncoder.js';

/*
 * RSA public key certificates with message recovery, EMV Book 2 §5.3 (issuer,
 * format 02) and §6.3 (ICC, format 04): 6A | format | fields | the key's
 * leftmost digits (padded BB) | SHA-1 | BC. The digits that do not fit are
 * the remainder (92 / 9F48), hashed after the recovered fields with the
 * exponent (and, for the ICC, the static data to authenticate).
 */

export interface RsaCertificate {
  /** `90` or `9F46` */
  certificate: Buffer;
  /** `92` or `9F48`; empty when the whole key fits. */
  remainder: Buffer;
}

export interface IssuerCertificateFields {
  /** Leftmost 3..8 PAN digits, F-padded to 4 bytes (hex, e.g. "622848FF"). */
  issuerId: string;
  /** MMYY */
  expiry: string;
  /** 3 bytes, hex */
  serial: string;
}

/** Issuer public key certificate `90` signed by the CA key (format 02). */
export function rsaIssuerCertificate(caKey: KeyObject, issuerModulus: Buffer, issuerExponent: Buffer, fields: IssuerCertificateFields): RsaCertificate {
  const header = Buffer.concat([hex('02'), hex(fields.issuerId), hex(fields.expiry), hex(fields.serial)]);
  return certify(caKey, header, issuerModulus, issuerExponent, Buffer.alloc(0));
}

export interface IccCertificateFields {
  /** The application PAN (digits). */
  pan: string;
  /** MMYY */
  expiry: string;
  /** 3 bytes, hex */
  serial: string;
  /** The static data to be authenticated (EMV Book 3 §10.3). */
  staticData: Buffer;
}

/** ICC public key certificate `9F46` signed by the issuer key (format 04). */
export function rsaIccCertificate(issuerKey: KeyObject, iccModulus: Buffer, iccExponent: Buffer, fields: IccCertificateFields): RsaCertificate {
  const pan = hex(fields.pan.padEnd(20, 'F'));
  const header = Buffer.concat([hex('04'), pan, hex(fields.expiry), hex(fields.serial)]);
  return certify(issuerKey, header, iccModulus, iccExponent, fields.staticData);
}

/** header = format .. serial; then hash algorithm 01 (SHA-1), key algorithm 01 (RSA), key length, exponent length, key digits. */
function certify(signer: KeyObject, header: Buffer, modulus: Buffer, exponent: Buffer, hashedAfter: Buffer): RsaCertificate {
  const size = rsaModulus(signer).length;
  const room = size - header.length - 4 - 22;
  const digits = modulus.subarray(0, room);
  const remainder = modulus.subarray(room);
  const body = Buffer.concat([header, Buffer.from([0x01, 0x01, modulus.length, exponent.length]), digits, Buffer.alloc(room - digits.length, 0xbb)]);
  const hash = createHash('sha1').update(body).update(remainder).update(exponent).update(hashedAfter).digest();
  return { certificate: rsaSignBlock(signer, Buffer.concat([hex('6A'), body, hash, hex('BC')])), remainder: Buffer.from(remainder) };
}
