/*
 * The 64-bit hash a deny-list entry is kept as, in memory and on disk.
 *
 * Two 32-bit MurmurHash3 lanes with different constants and seeds over the
 * entry's UTF-16 code units (two per block), cross-mixed at the end as in
 * MurmurHash3_x86_128. Plain Math.imul arithmetic: ~50 ns for a 20-character
 * id, where node:crypto would cost a microsecond per lookup. The function is
 * part of the on-disk format (HASH_ID): changing it needs a new id.
 */

export const HASH_ID = 'cg-murmur3x2-64/1';

const SEED1 = 0x9747b28c;
const SEED2 = 0x5bd1e995;
const CTI = 'cti:';

/** Lane 1: MurmurHash3_x86_32's constants; lane 2: those of MurmurHash3_x86_128's second lane. */
const A1 = 0xcc9e2d51;
const B1 = 0x1b873593;
const A2 = 0x239b961b;
const B2 = 0xab0e9789;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The two lanes after absorbing a text: scratch, so that hashing allocates nothing. */
const lanes = new Int32Array(2);

/** Absorb `text` into lanes (h1, h2), leaving them in `lanes`; an odd last unit is absorbed as a tail. */
function absorb(text: string, h1: number, h2: number): void {
  const length = text.length;
  const even = length & ~1;
  for (let i = 0; i < even; i += 2) {
    const block = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    let k1 = Math.imul(block, A1);
    k1 = Math.imul((k1 << 15) | (k1 >>> 17), B1);
    h1 ^= k1;
    h1 = (Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64) | 0;
    let k2 = Math.imul(block, A2);
    k2 = Math.imul((k2 << 16) | (k2 >>> 16), B2);
    h2 ^= k2;
    h2 = (Math.imul((h2 << 17) | (h2 >>> 15), 5) + 0x0bcaa747) | 0;
  }
  if (even !== length) {
    const tail = text.charCodeAt(even);
    const k1 = Math.imul(tail, A1);
    h1 ^= Math.imul((k1 << 15) | (k1 >>> 17), B1);
    const k2 = Math.imul(tail, A2);
    h2 ^= Math.imul((k2 << 16) | (k2 >>> 16), B2);
  }
  lanes[0] = h1;
  lanes[1] = h2;
}

/**
 * Hash of `prefix + text` where (h1, h2) already hold the even-length
 * prefix: the low word goes to out[at], the high word to out[at + 1], so
 * that pairs in a Uint32Array read as little-endian uint64.
 */
function finish(text: string, h1: number, h2: number, prefixLength: number, out: Uint32Array, at: number): void {
  absorb(text, h1, h2);
  const total = prefixLength + text.length;
  h1 = lanes[0]! ^ total;
  h2 = lanes[1]! ^ total;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  out[at] = h1;
  out[at + 1] = h2;
}

absorb(CTI, SEED1, SEED2);
/** The lanes after `cti:`, where a code id's entry continues. */
const CTI1 = lanes[0]!;
const CTI2 = lanes[1]!;

/** Hash of a deny-list entry as fleet ops write it: a subject, or `cti:<hex>`. */
export function hashEntry(entry: string, out: Uint32Array, at: number): void {
  finish(entry, SEED1, SEED2, 0, out, at);
}

/** Hash of the entry `cti:<hex>` without building the string. */
export function hashCti(ctiHex: string, out: Uint32Array, at: number): void {
  finish(ctiHex, CTI1, CTI2, CTI.length, out, at);
}
