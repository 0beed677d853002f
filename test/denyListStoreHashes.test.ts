import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashCti, hashEntry } from '../src/core/denylist/entryHash.js';
import { SortedHashes, hashesOf, wordsFor } from '../src/core/denylist/sortedHashes.js';

/** A pair as one bigint, for the model. */
const key = (words: Uint32Array, at: number): bigint => (BigInt(words[at + 1]!) << 32n) | BigInt(words[at]!);

function pairs(keys: readonly bigint[]): Uint32Array {
  const words = new Uint32Array(2 * keys.length);
  keys.forEach((k, i) => {
    words[2 * i] = Number(k & 0xffffffffn);
    words[2 * i + 1] = Number(k >> 32n);
  });
  return words;
}

function sorted(keys: Iterable<bigint>): bigint[] {
  return [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('sorted hash set', () => {
  // Keys crowded into few top bits too, so that buckets hold many pairs and equal `hi` words meet.
  const key64 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 34n }), fc.constantFrom(0n, 2n ** 64n - 1n, 2n ** 32n));

  it('answers and applies deltas as a Set of 64-bit keys does, across directory sizes', () => {
    fc.assert(
      fc.property(fc.array(key64, { maxLength: 3000, size: 'max' }), fc.array(fc.tuple(fc.array(key64, { maxLength: 400, size: 'max' }), fc.array(fc.nat(), { maxLength: 400, size: 'max' })), { maxLength: 4 }), (initial, steps) => {
        const model = new Set(initial);
        const start = pairs(initial);
        const words = wordsFor(initial.length);
        words.set(start);
        const set = SortedHashes.fromUnsorted(words, initial.length);
        for (const [added, picks] of steps) {
          const current = sorted(model);
          // Removes: some listed keys (picked by index), some not.
          const removes = sorted([...picks.map((p) => current[p % Math.max(1, current.length)] ?? 0n), ...added.slice(0, 3).map((k) => k ^ 1n)]);
          const adds = sorted(added);
          const delta = set.delta(pairs(removes), pairs(adds));
          expect(set.apply(delta)).toBe(true);
          for (const k of removes) model.delete(k);
          for (const k of adds) model.add(k);
          expect(set.size).toBe(model.size);
          const bytes = set.bytes();
          const view = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
          expect(Array.from({ length: set.size }, (_, i) => key(view, 2 * i))).toEqual(sorted(model));
          for (const k of [...removes, ...adds, ...added.map((a) => a + 1n)]) {
            const k64 = k & (2n ** 64n - 1n);
            const w = pairs([k64]);
            expect(set.has(w[0]!, w[1]!)).toBe(model.has(k64));
          }
          // A delta applied twice no longer fits.
          if (delta.adds.length + delta.removes.length > 0) expect(set.apply(delta)).toBe(false);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('takes pairs from disk only in strict order', () => {
    expect(SortedHashes.fromSorted(pairs([1n, 5n, 2n ** 40n]), 3)?.size).toBe(3);
    expect(SortedHashes.fromSorted(pairs([1n, 5n, 5n]), 3)).toBeUndefined();
    expect(SortedHashes.fromSorted(pairs([2n ** 40n, 5n]), 2)).toBeUndefined();
  });

  it('hashes a code id as the entry cti:<hex>, and equal texts alike', () => {
    const a = new Uint32Array(4);
    hashEntry('cti:0a1b2c', a, 0);
    hashCti('0a1b2c', a, 2);
    expect([a[0], a[1]]).toEqual([a[2], a[3]]);
    hashCti('0a1b2d', a, 2);
    expect([a[0], a[1]]).not.toEqual([a[2], a[3]]);
    const listed = hashesOf(['x', 'y', 'x', 'cti:00']);
    expect(listed.length).toBe(6);
  });
});
