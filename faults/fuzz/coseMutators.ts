import { decode } from 'cborg';
import fc from 'fast-check';
import { Tagged } from '../../src/core/credentials/cbor.js';
import { cborBytes, cborItem } from './cborValues.js';
import { applyEdits, edits, type Mutant } from './mutators.js';

/*
 * Mutation inside a COSE_Sign1: take a genuine message apart, change one part
 * (the payload's bytes or one of its fields, a header, the signature, the tag,
 * the array) and put it together again, so that the mutant is well-formed CBOR
 * and reaches the checks after decoding: header rules, claims, signature.
 */

/** A lenient decode of the test's own genuine messages (the parser under test is not used to build inputs). */
function partsOf(bytes: Uint8Array): Sign1State {
  const item = decode(bytes, { useMaps: true, tags: { 18: Tagged.decoder(18) } } as Parameters<typeof decode>[1]) as unknown;
  if (item instanceof Tagged) return { tag: item.tag, parts: item.value as unknown[] };
  return { tag: null, parts: item as unknown[] };
}

function decodeMap(bytes: Uint8Array): Map<unknown, unknown> | undefined {
  try {
    const item = decode(bytes, { useMaps: true } as Parameters<typeof decode>[1]) as unknown;
    return item instanceof Map ? item : undefined;
  } catch {
    return undefined;
  }
}

type Change =
  | { part: 'payload-bytes' | 'protected-bytes' | 'signature'; list: Parameters<typeof applyEdits>[1] }
  | { part: 'payload-field' | 'protected-field'; pick: number; value: unknown; remove: boolean }
  | { part: 'unprotected'; value: unknown }
  | { part: 'tag'; tag: number | null }
  | { part: 'array'; drop: boolean; value: unknown }
  | { part: 'swap'; other: number; which: number };

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ part: fc.constantFrom('payload-bytes' as const, 'protected-bytes' as const, 'signature' as const), list: edits }),
  fc.record({ part: fc.constantFrom('payload-field' as const, 'protected-field' as const), pick: fc.nat(), value: cborItem, remove: fc.boolean() }),
  fc.record({ part: fc.constant('unprotected' as const), value: cborItem }),
  fc.record({ part: fc.constant('tag' as const), tag: fc.oneof(fc.constant(null), fc.constantFrom(16, 17, 18, 61, 98), fc.nat({ max: 1000 })) }),
  fc.record({ part: fc.constant('array' as const), drop: fc.boolean(), value: cborItem }),
  fc.record({ part: fc.constant('swap' as const), other: fc.nat(), which: fc.nat({ max: 3 }) }),
);

/** Replace or remove one field (keys in the map's order, then one new key) of a CBOR map given as bytes. */
function changeField(bytes: Uint8Array, pick: number, value: unknown, remove: boolean): Uint8Array {
  const map = decodeMap(bytes);
  if (!map) return bytes;
  const keys = [...map.keys()];
  const key = keys.length === 0 || pick % (keys.length + 1) === keys.length ? pick % 7 : keys[pick % (keys.length + 1)];
  if (remove) map.delete(key);
  else map.set(key, value);
  return cborBytes(map);
}

interface Sign1State {
  tag: number | null;
  parts: unknown[];
}

function bytesAt(state: Sign1State, index: number): Uint8Array {
  const part = state.parts[index];
  return part instanceof Uint8Array ? part : new Uint8Array(0);
}

function applyChange(state: Sign1State, c: Change, seeds: readonly Sign1State[]): void {
  switch (c.part) {
    case 'payload-bytes':
      state.parts[2] = applyEdits(bytesAt(state, 2), c.list, []);
      return;
    case 'protected-bytes':
      state.parts[0] = applyEdits(bytesAt(state, 0), c.list, []);
      return;
    case 'signature':
      state.parts[3] = applyEdits(bytesAt(state, 3), c.list, []);
      return;
    case 'payload-field':
      state.parts[2] = changeField(bytesAt(state, 2), c.pick, c.value, c.remove);
      return;
    case 'protected-field':
      state.parts[0] = changeField(bytesAt(state, 0), c.pick, c.value, c.remove);
      return;
    case 'unprotected':
      state.parts[1] = c.value;
      return;
    case 'tag':
      state.tag = c.tag;
      return;
    case 'array':
      state.parts = c.drop ? state.parts.slice(0, 3) : [...state.parts, c.value];
      return;
    case 'swap':
      // A part of another genuine message: a signature or header that verifies elsewhere.
      state.parts[c.which] = seeds[c.other % seeds.length]!.parts[c.which];
      return;
  }
}

/** Genuine COSE_Sign1 messages, each changed in one or two parts, re-encoded. */
export function mutatedSign1(seeds: readonly Uint8Array[]): fc.Arbitrary<Mutant<Uint8Array>> {
  const decoded: Sign1State[] = seeds.map(partsOf);
  return fc.record({ seed: fc.nat({ max: seeds.length - 1 }), changes: fc.array(change, { minLength: 1, maxLength: 2 }) }).map(({ seed, changes }) => {
    const state: Sign1State = { tag: decoded[seed]!.tag, parts: [...decoded[seed]!.parts] };
    for (const c of changes) applyChange(state, c, decoded);
    return { seed, value: cborBytes(state.tag === null ? state.parts : new Tagged(state.tag, state.parts)) };
  });
}

/** The payload bytes of a genuine COSE_Sign1. */
export function sign1Payload(bytes: Uint8Array): Uint8Array {
  return partsOf(bytes).parts[2] as Uint8Array;
}
