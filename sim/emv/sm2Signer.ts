import { createHash, randomBytes } from 'node:crypto';
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';

/*
 * SM2 signatures (GB/T 32918.2, GM/T 0003.2) for the simulated bank cards and
 * test CAs, on @noble/curves point arithmetic. Node's own SM2 signing is not
 * the standard's (no user id, CARDS.md §5), so the sim computes it itself:
 * e = SM3(Z_A || M), r = (e + x1) mod n, s = (1 + d)^-1 (k - r d) mod n.
 */

/** The recommended 256-bit curve (GB/T 32918.5). */
const CURVE = {
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  h: 1n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
};
const Point = weierstrass(CURVE);

/** The default user id of GM/T 0009, which the PBOC certificates use. */
const DEFAULT_USER_ID = Buffer.from('1234567812345678', 'ascii');

/** A fresh private key d in [1, n-2]. */
export function sm2RandomPrivateKey(): bigint {
  for (;;) {
    const d = toBigInt(randomBytes(32));
    if (d >= 1n && d <= CURVE.n - 2n) return d;
  }
}

/** The public key as the cards carry it: X || Y, 64 bytes (no 04 prefix). */
export function sm2PublicKey(d: bigint): Buffer {
  return Buffer.from(Point.BASE.multiply(d).toBytes(false)).subarray(1);
}

/**
 * The signature r || s (64 bytes) over `message` with the private key `d`;
 * `userId` the ID in Z_A (default 1234567812345678); `k` (the nonce) only to
 * reproduce a published example.
 */
export function sm2Sign(d: bigint, message: Uint8Array, options: { k?: bigint; userId?: Uint8Array } = {}): Buffer {
  const { n } = CURVE;
  const e = toBigInt(sm3(userHash(sm2PublicKey(d), options.userId ?? DEFAULT_USER_ID), message));
  for (;;) {
    const k = options.k ?? 1n + (toBigInt(randomBytes(32)) % (n - 1n));
    const r = (e + Point.BASE.multiply(k).toAffine().x) % n;
    const s = (inverse(1n + d, n) * mod(k - r * d, n)) % n;
    if (r !== 0n && r + k !== n && s !== 0n) return Buffer.concat([to32(r), to32(s)]);
    if (options.k !== undefined) throw new Error('SM2: this nonce gives no signature');
  }
}

/** Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), ENTL the id's length in bits. */
function userHash(publicKey: Buffer, userId: Uint8Array): Buffer {
  const entl = Buffer.from([(userId.length * 8) >> 8, (userId.length * 8) & 0xff]);
  return sm3(entl, userId, to32(CURVE.a), to32(CURVE.b), to32(CURVE.Gx), to32(CURVE.Gy), publicKey);
}

function sm3(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sm3');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

function to32(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
}

function mod(a: bigint, m: bigint): bigint {
  return ((a % m) + m) % m;
}

/** a^-1 mod m by the extended Euclidean algorithm (m prime, a not a multiple of m). */
function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return mod(s0, m);
}
