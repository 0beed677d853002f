import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { refuse } from '../reasons.js';
import { isBytes } from './cbor.js';
import { ALG_LABEL, type CoseAlg } from './cose.js';

/** A public key ready for native verification, with the one algorithm it may be used for. */
export interface VerifyKey {
  alg: CoseAlg;
  key: KeyObject;
}

/** Node's native verification: on a Pi it is an order of magnitude faster than pure JS. */
export function verifySignature(verifier: VerifyKey, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  if (verifier.alg === 'ES256') {
    return verify('sha256', data, { key: verifier.key, dsaEncoding: 'ieee-p1363' }, signature);
  }
  return verify(null, data, verifier.key, signature);
}

/** Build a key from a JWK (trust lists); throws a plain Error with the reason, for config loaders. */
export function keyFromJwk(jwk: { alg: CoseAlg; kty: string; crv: string; x: string; y?: string | undefined }): VerifyKey {
  const expected = jwk.alg === 'ES256' ? { kty: 'EC', crv: 'P-256' } : { kty: 'OKP', crv: 'Ed25519' };
  if (jwk.kty !== expected.kty || jwk.crv !== expected.crv) {
    throw new Error(`alg ${jwk.alg} needs kty ${expected.kty} and crv ${expected.crv}, found ${jwk.kty}/${jwk.crv}`);
  }
  if (jwk.alg === 'ES256' && !jwk.y) throw new Error('an EC key needs y');
  const material: JsonWebKey = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}) };
  return { alg: jwk.alg, key: createPublicKey({ key: material, format: 'jwk' }) };
}

const KTY = 1;
const ALG = 3;
const CRV = -1;
const X = -2;
const Y = -3;
const KTY_OKP = 1;
const KTY_EC2 = 2;
const CRV_P256 = 1;
const CRV_ED25519 = 6;

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * A COSE_Key (RFC 9053 §7) from a `cnf` claim: EC2 P-256 (y as bytes or as the
 * compressed sign bit) or OKP Ed25519. Anything else is `malformed`.
 */
export function keyFromCose(coseKey: Map<unknown, unknown>, what: string): VerifyKey {
  const kty = coseKey.get(KTY);
  const crv = coseKey.get(CRV);
  const x = coseKey.get(X);
  if (!isBytes(x) || x.length !== 32) refuse('malformed', `${what}: key x is not 32 bytes`);
  let alg: CoseAlg;
  let jwk: JsonWebKey;
  if (kty === KTY_EC2 && crv === CRV_P256) {
    alg = 'ES256';
    let y = coseKey.get(Y);
    if (typeof y === 'boolean') {
      // Compressed point: native crypto cannot import it from JWK, so decompress here.
      const prefix = new Uint8Array([y ? 0x03 : 0x02]);
      try {
        y = p256.Point.fromBytes(new Uint8Array([...prefix, ...x])).toBytes(false).subarray(33);
      } catch {
        refuse('malformed', `${what}: compressed point is not on P-256`);
      }
    }
    if (!isBytes(y) || y.length !== 32) refuse('malformed', `${what}: key y is not 32 bytes`);
    jwk = { kty: 'EC', crv: 'P-256', x: b64url(x), y: b64url(y) };
  } else if (kty === KTY_OKP && crv === CRV_ED25519) {
    alg = 'EdDSA';
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(x) };
  } else {
    return refuse('malformed', `${what}: key type ${String(kty)}/curve ${String(crv)} is not EC2 P-256 or OKP Ed25519`);
  }
  const declared = coseKey.get(ALG);
  if (declared !== undefined && declared !== ALG_LABEL[alg]) refuse('malformed', `${what}: key alg ${String(declared)} does not fit its curve`);
  try {
    return { alg, key: createPublicKey({ key: jwk, format: 'jwk' }) };
  } catch (error) {
    return refuse('malformed', `${what}: key is not a valid point (${(error as Error).message})`);
  }
}
