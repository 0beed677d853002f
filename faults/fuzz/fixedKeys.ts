import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { CoseAlg } from '../../src/core/credentials/cose.js';
import type { KeyPair } from '../../sim/issuer.js';

/*
 * Keys derived from a name, so that every fuzz run has the same issuers and
 * fleet key: a crash or forgery reported with its input replays against the
 * same trust list. PKCS#8 of a bare private key; OpenSSL derives the public half.
 */
const P256_PKCS8_PREFIX = Buffer.from('3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420', 'hex');
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function fixedKeyPair(alg: CoseAlg, name: string): KeyPair {
  const secret = createHash('sha256').update(`citygate fuzz key: ${name}`).digest();
  const der = Buffer.concat([alg === 'ES256' ? P256_PKCS8_PREFIX : ED25519_PKCS8_PREFIX, secret]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { alg, privateKey, publicKey: createPublicKey(privateKey) };
}

/** Eight bytes of key id, derived from a name like the key. */
export function fixedKid(name: string): Uint8Array {
  return Uint8Array.from(createHash('sha256').update(`citygate fuzz kid: ${name}`).digest().subarray(0, 8));
}

/** Sixteen bytes (a cti, a nonce) derived from a name. */
export function fixedBytes(name: string, length = 16): Uint8Array {
  return Uint8Array.from(createHash('sha256').update(`citygate fuzz bytes: ${name}`).digest().subarray(0, length));
}
