import { hashEntry } from './entryHash.js';

/*
 * A set of 64-bit hashes kept sorted as [lo, hi] word pairs in one
 * Uint32Array: 8 bytes an entry, and on a little-endian machine its bytes
 * are the disk format (ascending little-endian uint64s) as they stand. A
 * directory on the top bits of `hi` (hashes are uniform) narrows a lookup to
 * a bucket of ~8-16 pairs: two cache misses, no BigInt, no allocation.
 */

/** Pairs per directory bucket the directory is sized for (half a byte of directory per entry). */
const PER_BUCKET = 8;
const MAX_DIRECTORY_BITS = 24;

/** Room for growth without copying: untouched pages of a fresh ArrayBuffer cost no memory. */
function capacityFor(count: number): number {
  return count + Math.max(count >>> 3, 65_536);
}

/** Fresh words for `count` pairs, with room to grow. */
export function wordsFor(count: number): Uint32Array {
  return new Uint32Array(2 * capacityFor(count));
}

/** Sorts the first `count` pairs of `words` (8-byte aligned) and drops repeats; returns how many remain. */
export function sortUnique(words: Uint32Array, count: number): number {
  new BigUint64Array(words.buffer, words.byteOffset, count).sort();
  if (count === 0) return 0;
  let kept = 1;
  for (let i = 1; i < count; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    if (lo === words[2 * kept - 2] && hi === words[2 * kept - 1]) continue;
    words[2 * kept] = lo;
    words[2 * kept + 1] = hi;
    kept++;
  }
  return kept;
}

/** Sorted, distinct hashes of `entries`, as pairs. */
export function hashesOf(entries: readonly string[]): Uint32Array {
  const words = new Uint32Array(2 * entries.length);
  for (let i = 0; i < entries.length; i++) hashEntry(entries[i]!, words, 2 * i);
  return words.subarray(0, 2 * sortUnique(words, entries.length));
}

function before(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo < bLo);
}

/** The effect of one update on a set: pairs it takes out and pairs it puts in. */
export interface Delta {
  removes: Uint32Array;
  adds: Uint32Array;
}

export class SortedHashes {
  private words: Uint32Array;
  private count: number;
  private shift = 31;
  private directory = new Uint32Array(3);

  private constructor(words: Uint32Array, count: number) {
    this.words = words;
    this.count = count;
    this.index();
  }

  static empty(): SortedHashes {
    return new SortedHashes(wordsFor(0), 0);
  }

  /** Takes ownership of `words`, whose first `count` pairs are in any order, repeats allowed. */
  static fromUnsorted(words: Uint32Array, count: number): SortedHashes {
    return new SortedHashes(words, sortUnique(words, count));
  }

  /** Takes ownership of `words`, whose first `count` pairs must be strictly ascending; undefined if not. */
  static fromSorted(words: Uint32Array, count: number): SortedHashes | undefined {
    for (let i = 1; i < count; i++) {
      if (!before(words[2 * i - 2]!, words[2 * i - 1]!, words[2 * i]!, words[2 * i + 1]!)) return undefined;
    }
    return new SortedHashes(words, count);
  }

  get size(): number {
    return this.count;
  }

  /** The pairs as bytes (little-endian uint64s, ascending): a view, valid until the next change. */
  bytes(): Uint8Array {
    return new Uint8Array(this.words.buffer, this.words.byteOffset, 8 * this.count);
  }

  has(lo: number, hi: number): boolean {
    const i = this.lowerBound(lo, hi);
    return i < this.count && this.words[2 * i] === lo && this.words[2 * i + 1] === hi;
  }

  /**
   * What an update does to this set, removes before adds: the `removes`
   * present here and not re-added, and the `adds` absent here. Both inputs
   * sorted and distinct.
   */
  delta(removes: Uint32Array, adds: Uint32Array): Delta {
    const out = new Uint32Array(removes.length);
    let kept = 0;
    let a = 0;
    for (let r = 0; r < removes.length; r += 2) {
      const lo = removes[r]!;
      const hi = removes[r + 1]!;
      while (a < adds.length && before(adds[a]!, adds[a + 1]!, lo, hi)) a += 2;
      const readded = a < adds.length && adds[a] === lo && adds[a + 1] === hi;
      if (readded || !this.has(lo, hi)) continue;
      out[kept++] = lo;
      out[kept++] = hi;
    }
    const fresh = new Uint32Array(adds.length);
    let added = 0;
    for (let i = 0; i < adds.length; i += 2) {
      if (this.has(adds[i]!, adds[i + 1]!)) continue;
      fresh[added++] = adds[i]!;
      fresh[added++] = adds[i + 1]!;
    }
    return { removes: out.slice(0, kept), adds: fresh.slice(0, added) };
  }

  /**
   * Applies a delta made by `delta()` on this very set, in place: a forward
   * pass closes the gaps of the removed pairs, a backward pass opens room
   * for the added ones, each a few native memmoves. Returns false, changing
   * nothing, if the delta does not fit the set (a remove absent, an add present).
   */
  apply({ removes, adds }: Delta): boolean {
    const removeAt = new Uint32Array(removes.length / 2);
    for (let k = 0; k < removeAt.length; k++) {
      const i = this.lowerBound(removes[2 * k]!, removes[2 * k + 1]!);
      if (i >= this.count || this.words[2 * i] !== removes[2 * k] || this.words[2 * i + 1] !== removes[2 * k + 1]) return false;
      removeAt[k] = i;
    }
    const insertAt = new Uint32Array(adds.length / 2);
    for (let k = 0; k < insertAt.length; k++) {
      const i = this.lowerBound(adds[2 * k]!, adds[2 * k + 1]!);
      if (i < this.count && this.words[2 * i] === adds[2 * k] && this.words[2 * i + 1] === adds[2 * k + 1]) return false;
      insertAt[k] = i;
    }
    const next = this.count - removeAt.length + insertAt.length;
    if (2 * next > this.words.length) {
      const grown = wordsFor(next);
      grown.set(this.words.subarray(0, 2 * this.count));
      this.words = grown;
    }
    const w = this.words;
    for (let k = 0, write = removeAt[0] ?? 0; k < removeAt.length; k++) {
      const from = removeAt[k]! + 1;
      const to = k + 1 < removeAt.length ? removeAt[k + 1]! : this.count;
      w.copyWithin(2 * write, 2 * from, 2 * to);
      write += to - from;
    }
    // Insertion points were found before the removals: shift each left by the removals before it.
    for (let k = 0, r = 0; k < insertAt.length; k++) {
      while (r < removeAt.length && removeAt[r]! < insertAt[k]!) r++;
      insertAt[k] = insertAt[k]! - r;
    }
    let readEnd = this.count - removeAt.length;
    for (let k = insertAt.length - 1; k >= 0; k--) {
      const at = insertAt[k]!;
      w.copyWithin(2 * (at + k + 1), 2 * at, 2 * readEnd);
      w[2 * (at + k)] = adds[2 * k]!;
      w[2 * (at + k) + 1] = adds[2 * k + 1]!;
      readEnd = at;
    }
    this.count = next;
    this.index();
    return true;
  }

  /** Index of the first pair not below (lo, hi). */
  private lowerBound(lo: number, hi: number): number {
    const w = this.words;
    const bucket = hi >>> this.shift;
    let i = this.directory[bucket]!;
    const end = this.directory[bucket + 1]!;
    while (i < end) {
      const h = w[2 * i + 1]!;
      if (h > hi || (h === hi && w[2 * i]! >= lo)) break;
      i++;
    }
    return i;
  }

  /** directory[b] = the first pair whose top bits are >= b. */
  private index(): void {
    const bits = Math.min(MAX_DIRECTORY_BITS, Math.max(1, Math.floor(Math.log2(Math.max(1, this.count / PER_BUCKET)))));
    const buckets = 2 ** bits;
    if (this.directory.length !== buckets + 1) this.directory = new Uint32Array(buckets + 1);
    this.shift = 32 - bits;
    const w = this.words;
    const d = this.directory;
    const shift = this.shift;
    let b = 0;
    for (let i = 0; i < this.count; i++) {
      const top = w[2 * i + 1]! >>> shift;
      while (b <= top) d[b++] = i;
    }
    while (b <= buckets) d[b++] = this.count;
  }
}
