import { createECDH, createHash, randomBytes } from 'node:crypto';

/*
 * SM2 signatures (GB/T 32918.2, GM/T 0003.2) for the simulated bank cards and
 * test CAs. Node's own SM2 signing is not the standard's (no user id, CARDS.md
 * §5), so the sim computes it itself: e = SM3(Z_A || M), (x1, y1) = k·G,
 * r = (e + x1) mod n, s = (1 + d)^-1 (k - r d) mod n. The point k·G (and d·G,
 * the public key) comes from OpenSSL's SM2 curve through ECDH: constant-time,
 * and half the time of @noble/curves' constant-time multiplication, the bulk
 * of a simulated card's time in a tap.
 */

/** The recommended 256-bit curve (GB/T 32918.5): what Z_A and s need of it. */
const CURVE = {
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
};

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
  return multiplyBase(d).subarray(1);
}

/** k·G as 04 || x || y, for k in [1, n-1]. */
function multiplyBase(k: bigint): Buffer {
  const ecdh = createECDH('SM2');
  ecdh.setPrivateKey(to32(k));
  return ecdh.getPublicKey();
}

/**
 * The signature r || s (64 bytes) over `message` with the private key `d`;
 * `userId` the ID in Z_A (default 1234567812345678); `k` (the nonce) only to
 * reproduce a published example.
 */
export function sm2Sign(d: bigint, message: Uint8Array, options: { k?: bigint; userId?: Uint8Array } = {}): Buffer {
  const { n } = CURVE;
  const key = signingKey(d, options.userId ?? DEFAULT_USER_ID);
  const e = toBigInt(sm3(key.userHash, message));
  for (;;) {
    const k = options.k ?? 1n + (toBigInt(randomBytes(32)) % (n - 1n));
    const r = (e + toBigInt(multiplyBase(k).subarray(1, 33))) % n;
    const s = (key.inverse * mod(k - r * d, n)) % n;
    if (r !== 0n && r + k !== n && s !== 0n) return Buffer.concat([to32(r), to32(s)]);
    if (options.k !== undefined) throw new Error('SM2: this nonce gives no signature');
  }
}

/** What a signer keeps with d: Z_A, and (1 + d)^-1 mod n. */
interface SigningKey {
  userHash: Buffer;
  inverse: bigint;
}

/**
 * The signing keys of keys that signed lately. A card keeps these with its
 * private key; working them out again for every signature (Z_A needs d·G)
 * was a second point multiplication in each simulated tap.
 */
const SIGNING_KEYS = new Map<string, SigningKey>();
const SIGNING_KEYS_KEPT = 1024;

function signingKey(d: bigint, userId: Uint8Array): SigningKey {
  const id = `${d.toString(16)}:${Buffer.from(userId).toString('hex')}`;
  const kept = SIGNING_KEYS.get(id);
  if (kept) return kept;
  const key = { userHash: userHash(sm2PublicKey(d), userId), inverse: inverse(1n + d, CURVE.n) };
  if (SIGNING_KEYS.size >= SIGNING_KEYS_KEPT) SIGNING_KEYS.delete(SIGNING_KEYS.keys().next().value!);
  SIGNING_KEYS.set(id, key);
  return key;
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
