import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emvTlvTarget } from '../faults/fuzz/emvTlvTarget.js';
import { runFuzz } from '../faults/fuzz/runner.js';
import { findTag, parseDol, parseTlv, type Tlv } from '../src/core/credentials/emv/tlv.js';
import { Refusal } from '../src/core/reasons.js';
import { refusalFrom } from './fixtures.js';

/*
 * BER-TLV of EMV Book 3 Annex B on real card answers, and on every byte
 * string fast-check can think of: objects come back as encoded, anything
 * else is a `malformed` refusal and never another error.
 */

const bytes = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const hexOf = (data: Uint8Array) => Buffer.from(data).toString('hex').toUpperCase();

/** A UnionPay debit card's answers, captured from a real card (public HCE emulator, repo file id 28726692165). */
const PPSE = bytes('6f30840e325041592e5359532e4444463031a51ebf0c1b61194f08a000000333010101500a50424f43204445424954870101');
const SELECT_AID = bytes(
  '6f598408a000000333010101a54d500a50424f432044454249548701019f381e9f66049f02069f03069f1a0295055f2a029a039c019f3704df6001df69015f2d027a689f1101019f1200bf0c0e9f4d020b0adf4d020c0adf610182',
);
const GPO = bytes(
  '7781c68202200094041003060057134921828094896752d25022013650000000000f9f100706040a03a020009f26089ffe5b7ee37376179f2701809f360203aa9f4b81804703a7be03f1e3dfed25d08fed5739de0d7ba5062b95eeab5aba503e447502d25bfc7d3ea6959b6e9fb9fed7e32f0382654ea3ad32b29728128f5e6fcd31ed2eb7859e9db84a9ca84e5366afac92792bff27adddf55816727e61740b1ae03ab89e3e5cf475099512896a9936f24b1cca97aacb975c4aa2fc827519d69d1d93be9f6c021600',
);
const RECORD = bytes('702e9f4701035a0849218280948967525f3401005f24032502285f280208269f6e04207000009f690701c1b626881600');


describe('parseTlv on real card answers', () => {
  it('reads the nested PPSE answer: 6F > A5 > BF0C > 61 > 4F, 50, 87', () => {
    const nodes = parseTlv(PPSE, 'PPSE');
    expect(nodes.map((n) => n.tag)).toEqual([0x6f]);
    const fci = nodes[0]!;
    expect(fci.constructed).toBe(true);
    expect(fci.children!.map((n) => n.tag)).toEqual([0x84, 0xa5]);
    expect(Buffer.from(findTag(nodes, 0x84)!.value).toString('latin1')).toBe('2PAY.SYS.DDF01');
    const issuerData = findTag(nodes, 0xbf0c)!;
    expect(issuerData.constructed).toBe(true);
    expect(issuerData.children!.map((n) => n.tag)).toEqual([0x61]);
    expect(findTag(issuerData.children!, 0x61)!.children!.map((n) => n.tag)).toEqual([0x4f, 0x50, 0x87]);
    expect(hexOf(findTag(nodes, 0x4f)!.value)).toBe('A000000333010101');
    expect(Buffer.from(findTag(nodes, 0x50)!.value).toString('latin1')).toBe('PBOC DEBIT');
    expect(hexOf(findTag(nodes, 0x87)!.value)).toBe('01');
    expect(findTag(nodes, 0x9f38)).toBeUndefined();
  });

  it('gives each object its whole encoding and its value as views of the input', () => {
    const [fci] = parseTlv(PPSE, 'PPSE');
    expect(fci!.raw).toEqual(PPSE);
    const label = findTag([fci!], 0x50)!;
    expect(hexOf(label.raw)).toBe('500A50424F43204445424954');
    expect(label.value.buffer).toBe(PPSE.buffer);
  });

  it('reads two-byte lengths (81 C6, 81 80) in a GPO answer and finds the signed dynamic data', () => {
    const [template] = parseTlv(GPO, 'GPO');
    expect(template!.tag).toBe(0x77);
    expect(template!.value.length).toBe(0xc6);
    expect(template!.children!.map((n) => n.tag)).toEqual([0x82, 0x94, 0x57, 0x9f10, 0x9f26, 0x9f27, 0x9f36, 0x9f4b, 0x9f6c]);
    expect(hexOf(findTag([template!], 0x94)!.value)).toBe('10030600');
    expect(findTag([template!], 0x9f4b)!.value.length).toBe(0x80);
    expect(hexOf(findTag([template!], 0x9f36)!.value)).toBe('03AA');
  });

  it('reads a record template: the PAN, the expiry and 9F69', () => {
    const nodes = parseTlv(RECORD, 'record');
    expect(hexOf(findTag(nodes, 0x5a)!.value)).toBe('4921828094896752');
    expect(hexOf(findTag(nodes, 0x5f24)!.value)).toBe('250228');
    expect(hexOf(findTag(nodes, 0x9f69)!.value)).toBe('01C1B626881600');
  });

  it('skips 00 and FF padding before, between and after objects', () => {
    const nodes = parseTlv(bytes('0000 5A0112 FFFF00 9F3700 FF'), 'padded');
    expect(nodes.map((n) => [n.tag, hexOf(n.value)])).toEqual([
      [0x5a, '12'],
      [0x9f37, ''],
    ]);
  });

  it('takes lengths in 81..84 form, and three-byte tags', () => {
    expect(hexOf(parseTlv(bytes('5A8400000002AABB'), 'long form')[0]!.value)).toBe('AABB');
    expect(hexOf(parseTlv(bytes('5A820001CC'), 'long form')[0]!.value)).toBe('CC');
    expect(parseTlv(bytes('DF810101EE'), 'three-byte tag')[0]!.tag).toBe(0xdf8101);
  });

  it('finds depth first: an object nested in an earlier sibling before a later one', () => {
    const nodes = parseTlv(bytes('A503 5A0101 5A0102'), 'order');
    expect(hexOf(findTag(nodes, 0x5a)!.value)).toBe('01');
  });

  it.each([
    ['a value cut short', '5A08622800010000'],
    ['a length missing', '9F37'],
    ['a tag cut short', '9F'],
    ['length bytes cut short', '5A82 00'],
    ['an indefinite length', '7080 5A0112 0000'],
    ['five length bytes', '5A85 0000000001 12'],
    ['a tag of four bytes', '9F818101 0112'],
    ['a child running past its template', '7004 5A0512'],
    ['a length past the end in 84 form', '5A84FFFFFFFF12'],
  ])('refuses %s as malformed', (_, text) => {
    const error = refusalFrom(() => parseTlv(bytes(text), 'card answer'));
    expect(error.reason).toBe('malformed');
    expect(error.detail).toMatch(/^card answer: /);
  });

  it('refuses nesting deeper than 8 levels, and takes 8', () => {
    const nest = (levels: number): Uint8Array => {
      let inner = bytes('5A0112');
      for (let i = 1; i < levels; i++) inner = Uint8Array.from([0x70, inner.length, ...inner]);
      return inner;
    };
    expect(findTag(parseTlv(nest(8), 'deep'), 0x5a)).toBeDefined();
    expect(refusalFrom(() => parseTlv(nest(9), 'deep')).detail).toMatch(/deeper than 8/);
  });
});

describe('parseDol', () => {
  it('reads the PDOL of a UnionPay card: the list CARDS.md §1 gives', () => {
    const pdol = findTag(parseTlv(SELECT_AID, 'SELECT'), 0x9f38)!.value;
    expect(parseDol(pdol, 'PDOL')).toEqual([
      { tag: 0x9f66, length: 4 },
      { tag: 0x9f02, length: 6 },
      { tag: 0x9f03, length: 6 },
      { tag: 0x9f1a, length: 2 },
      { tag: 0x95, length: 5 },
      { tag: 0x5f2a, length: 2 },
      { tag: 0x9a, length: 3 },
      { tag: 0x9c, length: 1 },
      { tag: 0x9f37, length: 4 },
      { tag: 0xdf60, length: 1 },
      { tag: 0xdf69, length: 1 },
    ]);
  });

  it('reads a CDOL1 and a DDOL (proxmark3 dda_test.c, tag 8C and 9F49)', () => {
    const cdol1 = bytes('9F02069F03069F1A0295055F2A029A039C019F37049F35019F45029F4C089F3403');
    expect(parseDol(cdol1, 'CDOL1').map((e) => `${e.tag.toString(16)}:${e.length}`)).toEqual(['9f02:6', '9f03:6', '9f1a:2', '95:5', '5f2a:2', '9a:3', '9c:1', '9f37:4', '9f35:1', '9f45:2', '9f4c:8', '9f34:3']);
    expect(parseDol(bytes('9F3704'), 'DDOL')).toEqual([{ tag: 0x9f37, length: 4 }]);
    expect(parseDol(new Uint8Array(0), 'DDOL')).toEqual([]);
  });

  it.each([
    ['an entry without its length', '9F6604 9F02'],
    ['a tag cut short', '9F6604 9F'],
    ['a padding byte where a tag belongs', '9F6604 00'],
    ['more than a command holds', '9F0281FF 9F3704'],
    ['a tag of four bytes', '9F81818101'],
  ])('refuses %s', (_, text) => {
    expect(refusalFrom(() => parseDol(bytes(text), 'PDOL')).reason).toBe('malformed');
  });
});

/*
 * A small BER-TLV encoder, for the round trip: tags of one to three bytes,
 * lengths in short form or in any of the long forms the parser takes.
 */

interface Node {
  tag: Uint8Array;
  lengthBytes: number;
  value?: Uint8Array;
  children?: Node[];
  padding: number;
}

function tagNumber(tag: Uint8Array): number {
  return tag.reduce((n, b) => n * 256 + b, 0);
}

function encodeLength(length: number, lengthBytes: number): number[] {
  const size = Math.max(lengthBytes, length < 0x80 ? 0 : length < 0x100 ? 1 : length < 0x10000 ? 2 : 3);
  if (size === 0) return [length];
  const out = [0x80 | size];
  for (let i = size - 1; i >= 0; i--) out.push(Math.floor(length / 256 ** i) % 256);
  return out;
}

function encode(nodes: readonly Node[]): Uint8Array {
  const parts: number[] = [];
  for (const node of nodes) {
    const value = node.children ? encode(node.children) : node.value!;
    parts.push(...Array<number>(node.padding).fill(0x00), ...node.tag, ...encodeLength(value.length, node.lengthBytes), ...value);
  }
  return Uint8Array.from(parts);
}

/** First byte: any class, never 00 or FF (padding), b6 as asked; more bytes when b5..b1 are all set. */
function tagArbitrary(constructed: boolean): fc.Arbitrary<Uint8Array> {
  const flag = constructed ? 0x20 : 0x00;
  const single = fc
    .record({ cls: fc.nat({ max: 3 }), number: fc.nat({ max: 0x1e }) })
    .map(({ cls, number }) => Uint8Array.of((cls << 6) | flag | number))
    .filter((t) => t[0] !== 0x00);
  const multi = fc
    .record({ cls: fc.nat({ max: 3 }), more: fc.array(fc.nat({ max: 0x7f }), { minLength: 1, maxLength: 2 }) })
    .map(({ cls, more }) => Uint8Array.of((cls << 6) | flag | 0x1f, ...more.map((b, i) => (i < more.length - 1 ? b | 0x80 : b))))
    .filter((t) => t[0] !== 0xff);
  return fc.oneof(single, multi);
}

const { tree } = fc.letrec<{ tree: Node[]; node: Node }>((tie) => ({
  tree: fc.array(tie('node'), { maxLength: 4 }),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ tag: tagArbitrary(false), lengthBytes: fc.nat({ max: 4 }), value: fc.uint8Array({ maxLength: 140 }), padding: fc.nat({ max: 2 }) }),
    fc.record({ tag: tagArbitrary(true), lengthBytes: fc.nat({ max: 4 }), children: tie('tree') as fc.Arbitrary<Node[]>, padding: fc.nat({ max: 2 }) }),
  ),
}));

function depthOf(nodes: readonly Node[]): number {
  return nodes.reduce((d, n) => Math.max(d, 1 + (n.children ? depthOf(n.children) : 0)), 0);
}

function shape(nodes: readonly Node[]): unknown[] {
  return nodes.map((n) => (n.children ? { tag: tagNumber(n.tag), children: shape(n.children) } : { tag: tagNumber(n.tag), value: hexOf(n.value!) }));
}

function parsedShape(nodes: readonly Tlv[]): unknown[] {
  return nodes.map((n) => (n.constructed ? { tag: n.tag, children: parsedShape(n.children!) } : { tag: n.tag, value: hexOf(n.value) }));
}

/** Only a Refusal with reason malformed may leave the parser. */
function onlyMalformed(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof Refusal) || error.reason !== 'malformed') throw error;
  }
}

describe('parseTlv and parseDol on anything (fast-check)', () => {
  it('parses what the encoder wrote back to the same tags, values and nesting', () => {
    fc.assert(
      fc.property(
        tree.filter((t) => depthOf(t) <= 8),
        (nodes) => {
          const encoded = encode(nodes);
          const parsed = parseTlv(encoded, 'round trip');
          expect(parsedShape(parsed)).toEqual(shape(nodes));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a malformed refusal on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (input) => {
        onlyMalformed(() => parseTlv(input, 'random'));
        onlyMalformed(() => parseDol(input, 'random'));
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but a malformed refusal on encodings with a byte changed or cut', () => {
    const mutated = tree
      .filter((t) => t.length > 0 && depthOf(t) <= 8)
      .chain((nodes) => {
        const encoded = encode(nodes);
        return fc.record({ encoded: fc.constant(encoded), at: fc.nat({ max: encoded.length - 1 }), value: fc.nat({ max: 255 }), cut: fc.boolean() });
      });
    fc.assert(
      fc.property(mutated, ({ encoded, at, value, cut }) => {
        const changed = cut ? encoded.subarray(0, at) : Uint8Array.from(encoded, (b, i) => (i === at ? value : b));
        onlyMalformed(() => parseTlv(changed, 'mutated'));
      }),
      { numRuns: 2000 },
    );
  });

  it('the fuzz target finds no crash and no contract violation, and both accepts and refuses', async () => {
    const figures = await runFuzz({ targets: [emvTlvTarget()], inputsPerTarget: 4000, seed: 7 });
    expect(figures.crashes).toEqual([]);
    expect(figures.violations).toEqual([]);
    expect(figures.targets[0]!.accepted).toBeGreaterThan(100);
    expect(figures.targets[0]!.refused).toBeGreaterThan(100);
  });
});
