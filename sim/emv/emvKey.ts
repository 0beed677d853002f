import type { JsonWebKey, KeyObject } from 'node:crypto';
import { makeRsaKey, rsaKeyFromJwk, type RsaExponent } from './rsaKeys.js';
import { sm2RandomPrivateKey } from './sm2Signer.js';

/** A private key of the EMV chain (CA, issuer or card): RSA, or SM2 as the scalar d. */
export type EmvKey = { algorithm: 'RSA'; key: KeyObject } | { algorithm: 'SM2'; key: bigint };

/** The same, as JSON files keep it: an RSA JWK, or d in hex. */
export type EmvKeyJson = { algorithm: 'RSA'; privateKey: JsonWebKey } | { algorithm: 'SM2'; privateKey: string };

export function makeEmvKey(algorithm: 'RSA' | 'SM2', bits: number, exponent: RsaExponent): EmvKey {
  return algorithm === 'RSA' ? { algorithm, key: makeRsaKey(bits, exponent) } : { algorithm, key: sm2RandomPrivateKey() };
}

export function emvKeyToJson(key: EmvKey): EmvKeyJson {
  return key.algorithm === 'RSA'
    ? { algorithm: 'RSA', privateKey: key.key.export({ format: 'jwk' }) }
    : { algorithm: 'SM2', privateKey: key.key.toString(16).padStart(64, '0') };
}

export function emvKeyFromJson(json: EmvKeyJson): EmvKey {
  return json.algorithm === 'RSA' ? { algorithm: 'RSA', key: rsaKeyFromJwk(json.privateKey) } : { algorithm: 'SM2', key: BigInt(`0x${json.privateKey}`) };
}
