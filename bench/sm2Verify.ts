/*
 * SM2 verification latency (src/core/crypto/sm2.ts) as BenchCases: a card's
 * parsed key, and a `fixed` key with precomputed tables, which is what CA and
 * issuer keys get. Keys and signatures are made here with sm2Sign.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { SM2_DEFAULT_USER_ID, Sm2PublicKey, sm3 } from '../src/core/crypto/sm2.js';
import { SM2_P256 } from '../src/core/crypto/sm2Curve.js';
import type { BenchCase } from './runner.js';

const { Point, n } = SM2_P256;
const MESSAGES = 64;

/**
 * SM2 signature (GB/T 32918.2 §6.1) as r||s. `k` is the nonce, random unless
 * given (tests reproduce the standard's example with its k). For benches and
 * tests only: not constant time.
 */
export function sm2Sign(privateKey: bigint, message: Uint8Array, userId: Uint8Array = SM2_DEFAULT_USER_ID, k?: bigint): Uint8Array {
  if (privateKey < 1n || privateKey >= n - 1n) throw new Error('SM2 private key out of range');
  const publicKey = Sm2PublicKey.parse(Point.BASE.multiply(privateKey).toBytes(false));
  const e = bytesToNumberBE(sm3(publicKey.za(userId), message));
  for (;;) {
    const nonce = k ?? (bytesToNumberBE(randomBytes(40)) % (n - 1n)) + 1n;
    const r = (e + Point.BASE.multiply(nonce).toAffine().x) % n;
    const s = (Point.Fn.inv(1n + privateKey) * (nonce - r * privateKey)) % n;
    const sPositive = (s + n) % n;
    if (r !== 0n && r + nonce !== n && sPositive !== 0n) return new Uint8Array([...numberToBytesBE(r, 32), ...numberToBytesBE(sPositive, 32)]);
    if (k !== undefined) throw new Error('SM2 nonce gives a degenerate signature');
  }
}

/** A random private key and its 04||X||Y public key. */
export function sm2KeyPair(): { privateKey: bigint; publicKey: Uint8Array } {
  const privateKey = (bytesToNumberBE(randomBytes(40)) % (n - 2n)) + 1n;
  return { privateKey, publicKey: Point.BASE.multiply(privateKey).toBytes(false) };
}

/** What an SM2 fDDA signature covers (sm2Certificates.ts): 15 | 03 | 02 ATC (5 bytes) || the terminal's 20 bytes. */
const FDDA_SIGNED_BYTES = 25;

/**
 * One SM2 verification as a BenchCase for the interleaved runner.
 * `parsed` (limit.verify.sm2): the key parsed once and kept, as the gate keeps
 * a regular card's ICC key with its cached certificate: what a tap costs.
 * `fixed` (limit.verify.sm2.fixed): a `Sm2PublicKey.fixed` key, kept, as CA
 * and issuer keys get. Z_A is cached in the key object after the first use in
 * both; the timed part is `verify` alone, over fDDA-sized messages.
 */
export function sm2VerifyCase(kind: 'parsed' | 'fixed'): BenchCase {
  const { privateKey, publicKey } = sm2KeyPair();
  const key = kind === 'fixed' ? Sm2PublicKey.fixed(publicKey) : Sm2PublicKey.parse(publicKey);
  const items = Array.from({ length: MESSAGES }, () => {
    const message = randomBytes(FDDA_SIGNED_BYTES);
    return { message, signature: sm2Sign(privateKey, message) };
  });
  let i = 0;
  return {
    name: kind === 'fixed' ? 'limit.verify.sm2.fixed' : 'limit.verify.sm2',
    measure() {
      const { message, signature } = items[i++ % MESSAGES]!;
      const t0 = performance.now();
      const ok = key.verify(message, signature);
      const t1 = performance.now();
      if (!ok) throw new Error(`SM2 verification failed (${kind} key)`);
      return (t1 - t0) * 1000;
    },
  };
}
