import { encode } from 'cborg';
import fc from 'fast-check';
import { Tagged } from '../../src/core/credentials/cbor.js';

/*
 * Random CBOR items of every major type, for structure-aware inputs: maps
 * keyed by the labels a format uses, so that generated items reach the
 * checks behind "is it a map".
 */

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.integer({ min: -70_000, max: 70_000 }),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.uint8Array({ maxLength: 48 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);

/** Integer labels of COSE headers, CWT claims and COSE keys, and a few around them. */
export const LABELS = [-65538, -65537, -65536, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 18, 23, 24, 255, 256];

/** Map keys: labels, other integers and text (cborg warns on the console for byte-string or array keys). */
const key: fc.Arbitrary<unknown> = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...LABELS) }, { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.string({ maxLength: 8 })) });

/** Any CBOR item, nested a few levels, with tags (18 and others) among them. */
export const cborItem: fc.Arbitrary<unknown> = fc.letrec<{ item: unknown; array: unknown[]; map: Map<unknown, unknown>; tagged: Tagged }>((tie) => ({
  item: fc.oneof({ depthSize: 'small' }, { weight: 6, arbitrary: leaf }, { weight: 2, arbitrary: tie('array') }, { weight: 2, arbitrary: tie('map') }, { weight: 1, arbitrary: tie('tagged') }),
  array: fc.array(tie('item'), { maxLength: 5 }),
  map: fc.uniqueArray(fc.tuple(key, tie('item')), { maxLength: 6, selector: ([k]) => k }).map((entries) => new Map(entries)),
  tagged: fc.tuple(fc.oneof(fc.constant(18), fc.nat({ max: 300 })), tie('item')).map(([tag, value]) => new Tagged(tag, value)),
})).item;

/** Nested items without tags: values inside a map a format defines, where a tag is refused at once and tests nothing else. */
const untaggedItem: fc.Arbitrary<unknown> = fc.letrec<{ item: unknown; array: unknown[]; map: Map<unknown, unknown> }>((tie) => ({
  item: fc.oneof({ depthSize: 'small' }, { weight: 6, arbitrary: leaf }, { weight: 1, arbitrary: tie('array') }, { weight: 1, arbitrary: tie('map') }),
  array: fc.array(tie('item'), { maxLength: 4 }),
  map: fc.uniqueArray(fc.tuple(key, tie('item')), { maxLength: 4, selector: ([k]) => k }).map((entries) => new Map(entries)),
})).item;

/** A map with some of `labels` present, each holding either `right(label)` or any untagged item. */
export function mapOf(labels: readonly unknown[], right: (label: unknown) => fc.Arbitrary<unknown>): fc.Arbitrary<Map<unknown, unknown>> {
  const entries = labels.map((label) =>
    fc.option(fc.oneof({ weight: 3, arbitrary: right(label) }, { weight: 1, arbitrary: untaggedItem }), { freq: 5, nil: undefined }).map((value) => [label, value] as const),
  );
  return fc.tuple(...entries, fc.option(fc.tuple(key, untaggedItem), { freq: 4, nil: undefined })).map((pairs) => {
    const map = new Map<unknown, unknown>();
    for (const pair of pairs) if (pair !== undefined && pair[1] !== undefined) map.set(pair[0], pair[1]);
    return map;
  });
}

/** CBOR bytes of `item`; an item cborg will not write (there are few) becomes an empty map. */
export function cborBytes(item: unknown): Uint8Array {
  try {
    return encode(item);
  } catch {
    return encode(new Map());
  }
}
