import { refuse } from '../reasons.js';

/*
 * RFC 9285 base45. Written here rather than taken from npm because the
 * published decoders accept invalid input silently (characters outside the
 * alphabet, groups above 65535), and this decoder is the gate's outer edge.
 */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

function valueAt(text: string, index: number): number {
  const code = text.charCodeAt(index);
  const value = code < 128 ? VALUES[code]! : -1;
  if (value < 0) refuse('malformed', `base45: character ${JSON.stringify(text[index])} at ${index} is not in the alphabet`);
  return value;
}

export function decodeBase45(text: string): Uint8Array {
  if (text.length % 3 === 1) refuse('malformed', `base45: length ${text.length} leaves a single character`);
  const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 === 2 ? 1 : 0));
  let o = 0;
  for (let i = 0; i < text.length; i += 3) {
    if (i + 2 < text.length) {
      const n = valueAt(text, i) + valueAt(text, i + 1) * 45 + valueAt(text, i + 2) * 2025;
      if (n > 0xffff) refuse('malformed', `base45: group at ${i} encodes ${n}, above 65535`);
      out[o++] = n >> 8;
      out[o++] = n & 0xff;
    } else {
      const n = valueAt(text, i) + valueAt(text, i + 1) * 45;
      if (n > 0xff) refuse('malformed', `base45: final pair encodes ${n}, above 255`);
      out[o++] = n;
    }
  }
  return out;
}

export function encodeBase45(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 2) {
    if (i + 1 < bytes.length) {
      const n = (bytes[i]! << 8) | bytes[i + 1]!;
      out += ALPHABET[n % 45]! + ALPHABET[Math.floor(n / 45) % 45]! + ALPHABET[Math.floor(n / 2025)]!;
    } else {
      const n = bytes[i]!;
      out += ALPHABET[n % 45]! + ALPHABET[Math.floor(n / 45)]!;
    }
  }
  return out;
}
