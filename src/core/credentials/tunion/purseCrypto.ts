import { createCipheriv, getCiphers } from 'node:crypto';

/**
 * The purse cryptography of PBOC electronic purses, which the T-Union
 * application (JT/T 978) inherits: key diversification, the purchase session
 * key, the purse MAC (MAC1, MAC2) and the TAC. The card's algorithm id picks
 * 3DES (00) or SM4 (04).
 *
 * 3DES is checked against a published worked example (docs/credentials.md);
 * the SM4 variant follows the same construction with 16-byte blocks (see
 * docs/credentials.md for what is read rather than checked).
 */
export type PurseAlgorithm = '3des' | 'sm4';

/** The algorithm ids a card's INITIALIZE FOR CAPP PURCHASE names. */
const ALGORITHM_IDS: Readonly<Record<number, PurseAlgorithm>> = { 0x00: '3des', 0x04: 'sm4' };

export function purseAlgorithm(id: number): PurseAlgorithm | undefined {
  return ALGORITHM_IDS[id];
}

export function algorithmId(algorithm: PurseAlgorithm): number {
  return algorithm === '3des' ? 0x00 : 0x04;
}

/** Whether this Node's OpenSSL has SM4 (some distributions build it without): SM4 cards are refused with this said, not thrown on. */
export const SM4_AVAILABLE = getCiphers().includes('sm4-ecb');

/** Encrypts whole blocks in ECB: a 16-byte key is 2-key 3DES (8-byte blocks) or SM4 (16-byte blocks); an 8-byte key is single DES. */
export function encryptBlocks(algorithm: PurseAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  return run(algorithm, 'ecb', key, data);
}

/** One pass of the block cipher over whole blocks; CBC with a zero IV. */
function run(algorithm: PurseAlgorithm, mode: 'ecb' | 'cbc', key: Uint8Array, data: Uint8Array): Uint8Array {
  const cipher = createCipheriv(cipherName(algorithm, mode, key), cipherKey(algorithm, key), mode === 'ecb' ? null : Buffer.alloc(blockSize(algorithm)));
  cipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

function cipherName(algorithm: PurseAlgorithm, mode: 'ecb' | 'cbc', key: Uint8Array): string {
  if (algorithm === 'sm4') {
    if (key.length !== 16) throw new RangeError(`an SM4 key has 16 bytes, not ${key.length}`);
    return `sm4-${mode}`;
  }
  if (key.length !== 8 && key.length !== 16) throw new RangeError(`a DES key has 8 or 16 bytes, not ${key.length}`);
  return `des-ede-${mode}`;
}

/** Single DES is 3DES with both halves of the key equal: OpenSSL 3 keeps plain DES in its legacy provider only. */
function cipherKey(algorithm: PurseAlgorithm, key: Uint8Array): Uint8Array {
  return algorithm === '3des' && key.length === 8 ? concat(key, key) : key;
}

/** The block size of the algorithm: 8 bytes for DES, 16 for SM4. */
export function blockSize(algorithm: PurseAlgorithm): number {
  return algorithm === '3des' ? 8 : 16;
}

/**
 * Diversifies a 16-byte key by an 8-byte factor (a card's serial, an issuer's
 * code): 3DES gives E(f) ‖ E(~f); SM4 gives E(f ‖ ~f).
 */
export function diversify(algorithm: PurseAlgorithm, key: Uint8Array, factor: Uint8Array): Uint8Array {
  if (factor.length !== 8) throw new RangeError(`a diversification factor has 8 bytes, not ${factor.length}`);
  const inverse = factor.map((b) => ~b & 0xff);
  return encryptBlocks(algorithm, key, concat(factor, inverse));
}

/**
 * The purchase session key: the purchase key over random(4) ‖ offline ATC(2)
 * ‖ the last 2 bytes of the terminal's serial. 3DES gives 8 bytes; SM4 pads
 * the 8 bytes with 80 00.. to its block and gives 16.
 */
export function purchaseSessionKey(algorithm: PurseAlgorithm, purchaseKey: Uint8Array, random: Uint8Array, atc: number, terminalSerial: Uint8Array): Uint8Array {
  if (random.length !== 4 || terminalSerial.length !== 4) throw new RangeError('the session key takes a 4-byte random and a 4-byte terminal serial');
  const input = concat(random, u16(atc), terminalSerial.subarray(2, 4));
  return encryptBlocks(algorithm, purchaseKey, algorithm === '3des' ? input : pad(input, 16));
}

/**
 * The purse MAC: CBC over the data padded with 80 00.. (always, ISO 9797-1
 * method 2), zero IV, the first 4 bytes of the last block. With an 8-byte
 * key (3DES session keys, TAC keys) it is single DES.
 */
export function purseMac(algorithm: PurseAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  const size = blockSize(algorithm);
  const out = run(algorithm, 'cbc', key, pad(data, size));
  return out.slice(out.length - size, out.length - size + 4);
}

/** MAC1's data: amount(4) ‖ transaction type(1) ‖ terminal id(6) ‖ date-time(7). */
export function mac1Data(amount: number, type: number, terminalId: Uint8Array, dateTime: Uint8Array): Uint8Array {
  return concat(u32(amount), Uint8Array.of(type), terminalId, dateTime);
}

/** MAC2's data: the amount(4). */
export function mac2Data(amount: number): Uint8Array {
  return u32(amount);
}

/** The TAC's data: amount(4) ‖ type(1) ‖ terminal id(6) ‖ terminal serial(4) ‖ date-time(7). */
export function tacData(amount: number, type: number, terminalId: Uint8Array, terminalSerial: Uint8Array, dateTime: Uint8Array): Uint8Array {
  return concat(u32(amount), Uint8Array.of(type), terminalId, terminalSerial, dateTime);
}

/** The TAC key: for 3DES the two halves of the card's TAC key XORed (single DES); SM4 uses the key as it is. */
export function tacKey(algorithm: PurseAlgorithm, key: Uint8Array): Uint8Array {
  if (algorithm === 'sm4') return key;
  return key.subarray(0, 8).map((b, i) => b ^ key[8 + i]!);
}

export function pad(data: Uint8Array, size: number): Uint8Array {
  const length = (Math.floor(data.length / size) + 1) * size;
  const out = new Uint8Array(length);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

export function u16(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}

export function u32(value: number): Uint8Array {
  return Uint8Array.of((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Constant-time compare of two MACs. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
