import { describe, expect, it } from 'vitest';
import { decodeBase45, encodeBase45 } from '../src/core/credentials/base45.js';
import { Refusal } from '../src/core/reasons.js';
import { prng, refusalFrom } from './fixtures.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const fromUtf8 = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('base45 (RFC 9285)', () => {
  describe('RFC 9285 §4.3/§4.4 examples', () => {
    it.each([
      ['AB', 'BB8'],
      ['Hello!!', '%69 VD92EX0'],
      ['base-45', 'UJCLQE7W581'],
    ])('%j encodes to %j and decodes back', (plain, encoded) => {
      expect(encodeBase45(utf8(plain))).toBe(encoded);
      expect(fromUtf8(decodeBase45(encoded))).toBe(plain);
    });

    it('decodes "QED8WEX0" to "ietf!"', () => {
      expect(fromUtf8(decodeBase45('QED8WEX0'))).toBe('ietf!');
    });
  });

  describe('edges', () => {
    it('the empty string is no bytes, both ways', () => {
      expect(encodeBase45(new Uint8Array(0))).toBe('');
      expect(decodeBase45('')).toEqual(new Uint8Array(0));
    });

    it.each([
      [[0x00, 0x00], '000'],
      [[0xff, 0xff], 'FGW'],
      [[0x00], '00'],
      [[0xff], 'U5'],
    ])('bytes %j <-> %j (largest and smallest groups)', (bytes, text) => {
      expect(encodeBase45(Uint8Array.from(bytes))).toBe(text);
      expect([...decodeBase45(text)]).toEqual(bytes);
    });

    it('every character of the alphabet decodes, space included', () => {
      // 45 characters in groups of three: values c + 0*45 + 0*2025 are all <= 44.
      for (const c of ALPHABET) expect([...decodeBase45(`${c}00`)]).toEqual([0, ALPHABET.indexOf(c)]);
    });
  });

  it('round-trips random bytes of every length from 0 to 80', () => {
    const random = prng(45);
    for (let length = 0; length <= 80; length++) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      const text = encodeBase45(bytes);
      expect(text.length).toBe(Math.floor(length / 2) * 3 + (length % 2) * 2);
      expect([...text].every((c) => ALPHABET.includes(c))).toBe(true);
      expect(decodeBase45(text)).toEqual(bytes);
    }
  });

  describe('invalid input is refused as malformed', () => {
    it.each([
      ['a lowercase letter', 'bB8'],
      ['a character outside the alphabet', 'BB#'],
      ['a character outside the alphabet in a final pair', 'BB8B#'],
      ['a non-ASCII character', 'BBé'],
      // 0xC2 & 0x7F is 'B': a decoder that masks to 7 bits would take it for one.
      ['a character above 127 that aliases a letter in 7 bits', `${String.fromCharCode(0xc2)}B8`],
      ['a NUL character', 'BB\u0000'],

      ['a group above 65535 ("GGW" = 65536)', 'GGW'],
      ['the largest group text (":::")', ':::'],
      ['a group above 65535 after a valid one', 'BB8GGW'],
      ['a final pair above 255 ("V5" = 256)', 'V5'],
      ['the largest final pair ("::")', 'BB8::'],
    ])('%s: %j', (_what, text) => {
      const refusal = refusalFrom(() => decodeBase45(text));
      expect(refusal).toBeInstanceOf(Refusal);
      expect(refusal.reason).toBe('malformed');
      expect(refusal.detail).toMatch(/^base45: /);
      expect(refusal.identity).toBeUndefined();
    });

    it.each(['A', 'BB8A', 'BB8BB8%'])('a length that leaves a single character (%j) is refused for its length', (text) => {
      const refusal = refusalFrom(() => decodeBase45(text));
      expect(refusal.reason).toBe('malformed');
      expect(refusal.detail).toMatch(/leaves a single character/);
    });
  });
});
