import fc from 'fast-check';

/*
 * Mutation of genuine seeds, as data: an arbitrary yields a list of edits and
 * the edits are applied to a seed, so that mutants stay close to inputs the
 * parsers really see (and get past their first checks) while fast-check's
 * seed makes every run the same.
 */

/** Byte values that change the meaning of CBOR heads: lengths, indefinite markers, tags, breaks. */
const INTERESTING_BYTES = [0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x20, 0x3f, 0x40, 0x5f, 0x60, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xd2, 0xd8, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff];

export type Edit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; length: number; to: number }
  | { op: 'splice'; at: number; other: number; from: number };

const position = fc.nat({ max: 1 << 16 });

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('set' as const), at: position, value: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.nat({ max: 255 })) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 64 }), to: position }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), at: position, other: fc.nat(), from: position }) },
);

/** Up to four edits: one edit finds shallow bugs, a few find the ones behind a first check. */
export const edits = fc.array(edit, { minLength: 1, maxLength: 4 });

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

function applyEdit(bytes: Uint8Array, e: Edit, seeds: readonly Uint8Array[]): Uint8Array {
  const n = bytes.length;
  const at = n === 0 ? 0 : e.at % n;
  switch (e.op) {
    case 'flip': {
      if (n === 0) return bytes;
      const out = Uint8Array.from(bytes);
      out[at] = out[at]! ^ (1 << e.bit);
      return out;
    }
    case 'set': {
      if (n === 0) return Uint8Array.of(e.value);
      const out = Uint8Array.from(bytes);
      out[at] = e.value;
      return out;
    }
    case 'insert': {
      const where = e.at % (n + 1);
      return concat(bytes.subarray(0, where), e.bytes, bytes.subarray(where));
    }
    case 'delete':
      return concat(bytes.subarray(0, at), bytes.subarray(at + e.length));
    case 'truncate':
      return bytes.subarray(0, at);
    case 'duplicate': {
      const chunk = bytes.subarray(at, at + e.length);
      const where = e.to % (n + 1);
      return concat(bytes.subarray(0, where), chunk, bytes.subarray(where));
    }
    case 'splice': {
      // Without other seeds, a part of itself: the same bytes shifted.
      const other = seeds.length === 0 ? bytes : seeds[e.other % seeds.length]!;
      return concat(bytes.subarray(0, at), other.subarray(other.length === 0 ? 0 : e.from % other.length));
    }
  }
}

export function applyEdits(bytes: Uint8Array, list: readonly Edit[], seeds: readonly Uint8Array[]): Uint8Array {
  return list.reduce((current, e) => applyEdit(current, e, seeds), bytes);
}

/** Edits as JSON (inserted bytes as hex), for inputs that carry their edits. */
export function editToJson(e: Edit): unknown {
  return e.op === 'insert' ? { ...e, bytes: Buffer.from(e.bytes).toString('hex') } : e;
}

export function editFromJson(json: unknown): Edit {
  const e = json as Edit | { op: 'insert'; at: number; bytes: string };
  return e.op === 'insert' && typeof e.bytes === 'string' ? { ...e, bytes: Uint8Array.from(Buffer.from(e.bytes, 'hex')) } : (e as Edit);
}

/** A genuine seed with a few edits, and which seed it came from (for the forgery check). */
export interface Mutant<T> {
  seed: number;
  value: T;
}

export function mutatedBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Mutant<Uint8Array>> {
  return fc.record({ seed: fc.nat({ max: seeds.length - 1 }), list: edits }).map(({ seed, list }) => ({ seed, value: applyEdits(seeds[seed]!, list, seeds) }));
}

/*
 * Text edits work on UTF-16 code units, as a parser of a JS string sees them:
 * a replaced unit may be a lone surrogate, which is what a broken decoder hands on.
 */
type TextEdit =
  | { op: 'set'; at: number; char: string }
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; length: number; to: number }
  | { op: 'splice'; at: number; other: number; from: number }
  | { op: 'case'; at: number; length: number };

function textEdit(alphabet: fc.Arbitrary<string>): fc.Arbitrary<TextEdit> {
  const anyChar = fc.oneof({ weight: 3, arbitrary: alphabet }, { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)) });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), at: position, char: anyChar }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, text: fc.string({ unit: anyChar, minLength: 1, maxLength: 6 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 12 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 40 }), to: position }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), at: position, other: fc.nat(), from: position }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('case' as const), at: position, length: fc.integer({ min: 1, max: 12 }) }) },
  );
}

function applyTextEdit(text: string, e: TextEdit, seeds: readonly string[]): string {
  const n = text.length;
  const at = n === 0 ? 0 : e.at % n;
  switch (e.op) {
    case 'set':
      return n === 0 ? e.char : text.slice(0, at) + e.char + text.slice(at + 1);
    case 'insert': {
      const where = e.at % (n + 1);
      return text.slice(0, where) + e.text + text.slice(where);
    }
    case 'delete':
      return text.slice(0, at) + text.slice(at + e.length);
    case 'truncate':
      return text.slice(0, at);
    case 'duplicate': {
      const where = e.to % (n + 1);
      return text.slice(0, where) + text.slice(at, at + e.length) + text.slice(where);
    }
    case 'splice': {
      const other = seeds[e.other % seeds.length]!;
      return text.slice(0, at) + other.slice(other.length === 0 ? 0 : e.from % other.length);
    }
    case 'case': {
      const part = text.slice(at, at + e.length);
      const swapped = part === part.toUpperCase() ? part.toLowerCase() : part.toUpperCase();
      return text.slice(0, at) + swapped + text.slice(at + e.length);
    }
  }
}

/** Seeds with a few text edits; `alphabet` is what the format is made of, so most edits stay plausible. */
export function mutatedText(seeds: readonly string[], alphabet: fc.Arbitrary<string>): fc.Arbitrary<Mutant<string>> {
  const list = fc.array(textEdit(alphabet), { minLength: 1, maxLength: 4 });
  return fc.record({ seed: fc.nat({ max: seeds.length - 1 }), list }).map(({ seed, list: l }) => ({ seed, value: l.reduce((t, e) => applyTextEdit(t, e, seeds), seeds[seed]!) }));
}

/** One character of `chars`. */
export function charOf(chars: string): fc.Arbitrary<string> {
  return fc.constantFrom(...chars.split(''));
}
