import { constants, createPrivateKey, generateKeyPairSync, privateEncrypt, type JsonWebKey, type KeyObject } from 'node:crypto';

/*
 * The RSA side of EMV offline data authentication: a signature is the raw
 * RSA private operation on a block the verifier recovers whole (EMV Book 2
 * §5.1, "digital signature scheme giving message recovery"), so no padding
 * scheme of the crypto library applies.
 */

export type RsaExponent = 3 | 65537;

/**
 * The key comes out encoded and is read back into a KeyObject of its own: Node 20 can deadlock
 * when the garbage collector frees the generating job while that job's KeyObject is exported
 * (seen in a test run: ~KeyGenJob waiting on the mutex ExportJWK holds).
 */
export function makeRsaKey(bits: number, exponent: RsaExponent): KeyObject {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: exponent,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' });
}

export function rsaKeyFromJwk(jwk: JsonWebKey): KeyObject {
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

/** Modulus, big-endian, as long as the key (the length of every block it signs). */
export function rsaModulus(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).n!, 'base64url');
}

/** Public exponent as the cards carry it: 03 or 01 00 01. */
export function rsaExponent(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).e!, 'base64url');
}

/** Signs a block of exactly the modulus length whose first byte (6A) keeps it below the modulus. */
export function rsaSignBlock(key: KeyObject, block: Uint8Array): Buffer {
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
}
