import { refuse } from '../../reasons.js';

/*
 * BER-TLV as EMV Book 3 Annex B uses it: tags of one to three bytes, lengths
 * in the short form or 81..84 followed by one to four bytes. Everything comes
 * from a card, so every length is checked against the bytes that are there.
 */

export interface Tlv {
  /** The tag's bytes as a number: 0x5A, 0x9F38, 0xBF0C. */
  tag: number;
  constructed: boolean;
  /** A view into the parsed bytes, not a copy. */
  value: Uint8Array;
  /** The whole encoding, tag+length+value (a view too). */
  raw: Uint8Array;
  /** The objects inside a constructed one. */
  children?: Tlv[];
}

/** Deeper than any EMV template (70 > A5 > BF0C > ...): a card nesting further is hostile. */
const MAX_DEPTH = 8;
const MAX_TAG_BYTES = 3;
const MAX_LENGTH_BYTES = 4;
/** A DOL describes the data field of one short command APDU, which holds 255 bytes at most. */
const MAX_DOL_DATA = 255;

interface Header {
  tag: number;
  constructed: boolean;
  /** Where the next field starts. */
  next: number;
}

function readTag(bytes: Uint8Array, at: number, what: string): Header {
  const first = bytes[at]!;
  let tag = first;
  let next = at + 1;
  // Low five bits all set: more tag bytes follow, each with b8 set but the last.
  if ((first & 0x1f) === 0x1f) {
    for (;;) {
      if (next >= bytes.length) refuse('malformed', `${what}: tag cut short at offset ${at}`);
      if (next - at >= MAX_TAG_BYTES) refuse('malformed', `${what}: tag longer than ${MAX_TAG_BYTES} bytes at offset ${at}`);
      const byte = bytes[next++]!;
      tag = tag * 0x100 + byte;
      if ((byte & 0x80) === 0) break;
    }
  }
  return { tag, constructed: (first & 0x20) !== 0, next };
}

function readLength(bytes: Uint8Array, at: number, what: string): { length: number; next: number } {
  if (at >= bytes.length) refuse('malformed', `${what}: length missing at offset ${at}`);
  const first = bytes[at]!;
  if (first < 0x80) return { length: first, next: at + 1 };
  if (first === 0x80) refuse('malformed', `${what}: indefinite length at offset ${at}`);
  const count = first & 0x7f;
  if (count > MAX_LENGTH_BYTES) refuse('malformed', `${what}: length of ${count} bytes at offset ${at}`);
  if (at + 1 + count > bytes.length) refuse('malformed', `${what}: length cut short at offset ${at}`);
  let length = 0;
  for (let i = 1; i <= count; i++) length = length * 0x100 + bytes[at + i]!;
  return { length, next: at + 1 + count };
}

/** Bytes EMV allows before, between and after objects (erased or padded records). */
function isPadding(byte: number): boolean {
  return byte === 0x00 || byte === 0xff;
}

function parseLevel(bytes: Uint8Array, what: string, depth: number): Tlv[] {
  if (depth > MAX_DEPTH) refuse('malformed', `${what}: nested deeper than ${MAX_DEPTH} levels`);
  const nodes: Tlv[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (isPadding(bytes[at]!)) {
      at++;
      continue;
    }
    const header = readTag(bytes, at, what);
    const { length, next } = readLength(bytes, header.next, what);
    if (length > bytes.length - next) refuse('malformed', `${what}: tag ${tagHex(header.tag)} says ${length} bytes, ${bytes.length - next} left`);
    const value = bytes.subarray(next, next + length);
    const node: Tlv = { tag: header.tag, constructed: header.constructed, value, raw: bytes.subarray(at, next + length) };
    if (header.constructed) node.children = parseLevel(value, what, depth + 1);
    nodes.push(node);
    at = next + length;
  }
  return nodes;
}

/**
 * Parses a sequence of TLVs; constructed ones are parsed recursively. Skips
 * 00/FF padding between objects as EMV allows. Refuses `malformed` on any
 * truncation, bad length form (indefinite, more than 4 length bytes), a tag
 * longer than 3 bytes, or nesting deeper than 8 levels.
 */
export function parseTlv(bytes: Uint8Array, what: string): Tlv[] {
  return parseLevel(bytes, what, 1);
}

/** Depth-first search for the first object with this tag. */
export function findTag(nodes: readonly Tlv[], tag: number): Tlv | undefined {
  for (const node of nodes) {
    if (node.tag === tag) return node;
    const inner = node.children && findTag(node.children, tag);
    if (inner) return inner;
  }
  return undefined;
}

/**
 * Parses a DOL (PDOL, CDOL, DDOL: tag + length pairs without values). No
 * padding here: a DOL is a list the card wrote on purpose. Refuses
 * `malformed` when it is cut short or asks for more than a command holds.
 */
export function parseDol(bytes: Uint8Array, what: string): { tag: number; length: number }[] {
  const entries: { tag: number; length: number }[] = [];
  let total = 0;
  let at = 0;
  while (at < bytes.length) {
    if (isPadding(bytes[at]!)) refuse('malformed', `${what}: byte ${tagHex(bytes[at]!)} where a tag belongs at offset ${at}`);
    const header = readTag(bytes, at, what);
    const { length, next } = readLength(bytes, header.next, what);
    total += length;
    if (total > MAX_DOL_DATA) refuse('malformed', `${what}: asks for more than ${MAX_DOL_DATA} bytes of data`);
    entries.push({ tag: header.tag, length });
    at = next;
  }
  return entries;
}

/** A tag as EMV documents write it: 9F38, 5A. */
export function tagHex(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(2, '0');
}
