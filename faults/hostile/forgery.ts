import { createHmac } from 'node:crypto';
import { encode } from 'cborg';
import { decodeBase45 } from '../../src/core/credentials/base45.js';
import { decodeCbor, Tagged } from '../../src/core/credentials/cbor.js';
import { toBeSigned } from '../../src/core/credentials/cose.js';
import { codeText, type KeyPair } from '../../sim/issuer.js';

/*
 * What an attacker does to COSE_Sign1 bytes he holds (a code off a screen, a
 * fleet message off the broker): take them apart, change a part, put them
 * back together. Nothing here can make a signature he has no key for.
 */

export interface CoseParts {
  protectedBytes: Uint8Array;
  unprotected: Map<unknown, unknown>;
  payload: Uint8Array;
  signature: Uint8Array;
}

export function coseParts(bytes: Uint8Array): CoseParts {
  const item = decodeCbor(bytes, 'attacker copy');
  const [protectedBytes, unprotected, payload, signature] = (item instanceof Tagged ? item.value : item) as [Uint8Array, Map<unknown, unknown>, Uint8Array, Uint8Array];
  return { protectedBytes, unprotected, payload, signature };
}

export function coseBytes(parts: CoseParts): Uint8Array {
  return encode(new Tagged(18, [parts.protectedBytes, parts.unprotected, parts.payload, parts.signature]));
}

export function codeBytes(text: string): Uint8Array {
  return decodeBase45(text.slice('CG1:'.length));
}

/** The same bytes with one bit of the signature (the last byte) flipped. */
export function flipSignatureBit(bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[copy.length - 1]! ^= 0x01;
  return copy;
}

export function flipCodeSignatureBit(text: string): string {
  return codeText(flipSignatureBit(codeBytes(text)));
}

/** `genuine`'s header and signature over `other`'s payload: claims changed after signing. */
export function payloadSwapped(genuine: Uint8Array, other: Uint8Array): Uint8Array {
  return coseBytes({ ...coseParts(genuine), payload: coseParts(other).payload });
}

/** The same signed code with a content-type (3) in the unprotected header: other text, same signature. */
export function reencodedCode(text: string): string {
  return codeText(coseBytes({ ...coseParts(codeBytes(text)), unprotected: new Map<unknown, unknown>([[3, 'text/plain']]) }));
}

export function withSignature(bytes: Uint8Array, signature: Uint8Array): Uint8Array {
  return coseBytes({ ...coseParts(bytes), signature });
}

/**
 * JWT-style algorithm confusion: header alg HS256 (COSE 5) and an HMAC keyed
 * with the issuer's public key, which anyone has from the trust list.
 */
export function hmacWithPublicKey(publicKey: KeyPair['publicKey'], kid: Uint8Array, payload: Uint8Array): Uint8Array {
  const protectedBytes = encode(new Map<number, unknown>([[1, 5], [4, kid]]));
  const secret = publicKey.export({ format: 'der', type: 'spki' });
  const signature = createHmac('sha256', secret).update(toBeSigned({ protectedBytes, payload })).digest();
  return coseBytes({ protectedBytes, unprotected: new Map(), payload, signature });
}
