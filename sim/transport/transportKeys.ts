import { sm2PublicKey, sm2RandomPrivateKey } from '../emv/sm2Signer.js';

/** An SM2 key pair of the transport-code test tooling: roots, issuers and riders' phones. */
export interface Sm2KeyPair {
  privateKey: bigint;
  /** 04 || X || Y, as a trust list names a root. */
  uncompressed: Buffer;
  /** 02/03 || X, as the code carries issuer and user keys. */
  compressed: Buffer;
}

export function sm2KeyPairOf(privateKey: bigint): Sm2KeyPair {
  const xy = sm2PublicKey(privateKey);
  const compressed = Buffer.concat([Buffer.of(0x02 | (xy[63]! & 1)), xy.subarray(0, 32)]);
  return { privateKey, uncompressed: Buffer.concat([Buffer.of(0x04), xy]), compressed };
}

export function newSm2KeyPair(): Sm2KeyPair {
  return sm2KeyPairOf(sm2RandomPrivateKey());
}
