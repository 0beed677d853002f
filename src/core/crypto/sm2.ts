import { createHash } from 'node:crypto';
import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { SM2_P256, type Sm2Curve } from './sm2Curve.js';

/**
 * SM2 signature verification (GB/T 32918.2, GM/T 0003.2) with Z_A and SM3.
 * Node's own SM2 verify hashes with an empty user id (CARDS.md §5), so the
 * curve arithmetic is noble's and only SM3 is native.
 */

/** The default user id of GM/T 0009, used by PBOC cards and national QR codes. */
export const SM2_DEFAULT_USER_ID: Uint8Array = new TextEncoder().encode('1234567812345678');

/** SM3 (GB/T 32905) of the concatenated parts. */
export function sm3(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sm3');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** An encoded public key that is not a point of the curve, or of no known length. */
export class Sm2KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Sm2KeyError';
  }
}

/**
 * Window of a fixed key's table: 6 bits makes t·P ~43 additions (verify ~0.5 ms
 * instead of ~2 ms) for a 20 ms, ~0.37 MB table; 64 keys stay under 25 MB.
 */
const FIXED_WINDOW = 6;
const FIXED_CACHE_SIZE = 64;
/** Z_A values kept per key: a few ids per key is the norm; a bound keeps hostile ids from growing it. */
const ZA_CACHE_SIZE = 8;
/** ENTL is two bytes of bit length. */
const MAX_USER_ID_BYTES = 0xffff >> 3;

const fixedKeys = new Map<string, Sm2PublicKey>();

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Insert into a Map used as a small LRU: the oldest entry goes when full. */
function remember<V>(cache: Map<string, V>, key: string, value: V, size: number): V {
  if (cache.size >= size) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
}

export class Sm2PublicKey {
  /** 04||X||Y */
  readonly uncompressed: Uint8Array;
  private readonly zas = new Map<string, Uint8Array>();

  private constructor(
    private readonly curve: Sm2Curve,
    private readonly point: WeierstrassPoint<bigint>,
  ) {
    this.uncompressed = point.toBytes(false);
  }

  /**
   * 04||X||Y (65 bytes), X||Y (64) or compressed 02/03||X (33). Throws Sm2KeyError
   * if not a point on the curve / wrong length. `curve` is for test curves only.
   */
  static parse(encoded: Uint8Array, curve: Sm2Curve = SM2_P256): Sm2PublicKey {
    return new Sm2PublicKey(curve, decodePoint(encoded, curve));
  }

  /**
   * Like parse, with precomputed multiplication tables, cached by encoding (the
   * last 64 keys): for fixed keys such as CA and issuer keys that verify again and again.
   */
  static fixed(encoded: Uint8Array): Sm2PublicKey {
    const id = encoded instanceof Uint8Array ? hex(encoded) : '';
    const cached = fixedKeys.get(id);
    if (cached) {
      // Refresh its place: the LRU keeps keys in use.
      fixedKeys.delete(id);
      fixedKeys.set(id, cached);
      return cached;
    }
    const point = decodePoint(encoded, SM2_P256).precompute(FIXED_WINDOW, false);
    return remember(fixedKeys, id, new Sm2PublicKey(SM2_P256, point), FIXED_CACHE_SIZE);
  }

  /**
   * Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA); cached per user id.
   * Throws RangeError for an id that is not bytes or too long for ENTL (8191 bytes).
   */
  za(userId: Uint8Array = SM2_DEFAULT_USER_ID): Uint8Array {
    return this.zaOf(userId).slice();
  }

  /**
   * Standard SM2 verification with e = SM3(Z_A || message); signature is r||s.
   * Returns false (never throws) for any bad signature, wrong length or bad user id.
   */
  verify(message: Uint8Array, signature: Uint8Array, userId: Uint8Array = SM2_DEFAULT_USER_ID): boolean {
    try {
      return this.check(message, signature, userId);
    } catch {
      return false;
    }
  }

  private check(message: Uint8Array, signature: Uint8Array, userId: Uint8Array): boolean {
    const { n, size } = this.curve;
    if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.length !== 2 * size) return false;
    const r = bytesToNumberBE(signature.subarray(0, size));
    const s = bytesToNumberBE(signature.subarray(size));
    if (r < 1n || r >= n || s < 1n || s >= n) return false;
    const t = (r + s) % n;
    if (t === 0n) return false;
    const e = bytesToNumberBE(sm3(this.zaOf(userId), message));
    // s·G + t·P as two walks: G always has a table (and a fixed key too), which beats
    // mulAddUnsafe's shared doubling chain that uses no table at all.
    const point = this.curve.base().multiplyUnsafe(s).add(this.point.multiplyUnsafe(t));
    if (point.is0()) return false;
    return (e + point.toAffine().x) % n === r;
  }

  private zaOf(userId: Uint8Array): Uint8Array {
    if (!(userId instanceof Uint8Array) || userId.length > MAX_USER_ID_BYTES) throw new RangeError(`SM2 user id must be at most ${MAX_USER_ID_BYTES} bytes`);
    const id = hex(userId);
    const cached = this.zas.get(id);
    if (cached) return cached;
    const entl = userId.length * 8;
    const z = sm3(new Uint8Array([entl >> 8, entl & 0xff]), userId, this.curve.zaParams, this.uncompressed.subarray(1));
    return remember(this.zas, id, z, ZA_CACHE_SIZE);
  }
}

function decodePoint(encoded: Uint8Array, curve: Sm2Curve): WeierstrassPoint<bigint> {
  if (!(encoded instanceof Uint8Array)) throw new Sm2KeyError('SM2 public key is not bytes');
  const size = curve.size;
  let sec1: Uint8Array;
  if (encoded.length === 2 * size) {
    sec1 = new Uint8Array(1 + 2 * size);
    sec1[0] = 0x04;
    sec1.set(encoded, 1);
  } else if (encoded.length === 1 + 2 * size || encoded.length === 1 + size) {
    sec1 = encoded;
  } else {
    throw new Sm2KeyError(`SM2 public key of ${encoded.length} bytes, expected ${2 * size}, ${1 + 2 * size} or ${1 + size}`);
  }
  try {
    // fromBytes checks the prefix, the coordinates' range and the curve equation; infinity has no encoding.
    return curve.Point.fromBytes(sec1);
  } catch {
    throw new Sm2KeyError('SM2 public key is not a point on the curve');
  }
}
