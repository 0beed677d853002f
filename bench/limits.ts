import { constants, createHash, createPublicKey, generateKeyPairSync, privateDecrypt, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { recoverDynamicData, type IccPublicKey } from '../src/core/credentials/emv/rsaCertificates.js';
import type { BenchCase } from './runner.js';

/*
 * The floors a decision cannot go below: one native signature verification
 * and one durable SQLite commit. Measured with the same primitives the gate
 * uses (node:crypto verify on a prepared KeyObject; better-sqlite3, WAL,
 * synchronous=FULL) and nothing else around them.
 */

const MESSAGES = 64;
const MESSAGE_BYTES = 100;

/** One verification of a 64-byte signature over ~100 bytes, key prepared beforehand. */
export function verifyCase(alg: 'ES256' | 'EdDSA'): BenchCase {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  // A public-only KeyObject, as the trust list and cnf keys are.
  const publicKey: KeyObject = pair.publicKey;
  const items = Array.from({ length: MESSAGES }, () => {
    const data = randomBytes(MESSAGE_BYTES);
    const signature = alg === 'ES256' ? sign('sha256', data, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' }) : sign(null, data, pair.privateKey);
    if (signature.length !== 64) throw new Error(`${alg} signature is ${signature.length} bytes`);
    return { data, signature };
  });
  const es256Key = { key: publicKey, dsaEncoding: 'ieee-p1363' as const };
  let i = 0;
  return {
    name: alg === 'ES256' ? 'limit.verify.es256' : 'limit.verify.eddsa',
    measure() {
      const { data, signature } = items[i++ % MESSAGES]!;
      const t0 = performance.now();
      const ok = alg === 'ES256' ? verify('sha256', data, es256Key, signature) : verify(null, data, publicKey, signature);
      const t1 = performance.now();
      if (!ok) throw new Error(`${alg} verification failed`);
      return (t1 - t0) * 1000;
    },
  };
}

/** What a qPBOC card signs besides its dynamic data, fDDA version 01: 9F37 (4) || 9F02 (6) || 5F2A (2) || 9F69 (8). */
const FDDA_TERMINAL_BYTES = 20;

/**
 * One fDDA signature check with an RSA ICC key of 1024 bits, e = 65537 (the
 * simulated cards' keys), as the gate does it per tap of a regular card: the
 * gate's own recoverDynamicData, i.e. one raw RSA public operation (native
 * publicDecrypt, RSA_NO_PADDING, the key object built once and cached) plus
 * the frame checks and the SHA-1 over the recovered data and the terminal's
 * 20 bytes. The signatures are made here with node:crypto (a raw private
 * operation on a Book 2 §6.5.2 block), not by the gate's code or the sim's.
 */
export function rsaRecoverCase(): BenchCase {
  // Encoded output, not KeyObjects: exporting a freshly generated KeyObject can deadlock Node 20 (sim/emv/rsaKeys.ts).
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 1024,
    publicExponent: 65537,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const jwk = createPublicKey({ key: publicKey, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  const modulus = Buffer.from(jwk.n!, 'base64url');
  const icc: IccPublicKey = { key: { modulus, exponent: Buffer.from(jwk.e!, 'base64url') }, pan: '6228001234567890', expiry: { year: 2049, month: 12 }, serial: '000001' };
  const items = Array.from({ length: MESSAGES }, (_, i) => {
    const terminalData = randomBytes(FDDA_TERMINAL_BYTES);
    // 6A | 05 01 | Ldd 03 | 02 ATC | BB padding | SHA-1 | BC
    const body = Buffer.from([0x05, 0x01, 0x03, 0x02, i >> 8, i & 0xff]);
    const padded = Buffer.concat([body, Buffer.alloc(modulus.length - body.length - 22, 0xbb)]);
    const hash = createHash('sha1').update(padded).update(terminalData).digest();
    const block = Buffer.concat([Buffer.from([0x6a]), padded, hash, Buffer.from([0xbc])]);
    return { terminalData, sdad: privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, block) };
  });
  let i = 0;
  return {
    name: 'limit.recover.rsa1024',
    measure() {
      const k = i++ % MESSAGES;
      const { sdad, terminalData } = items[k]!;
      const t0 = performance.now();
      const { iccDynamicNumber } = recoverDynamicData(icc, sdad, terminalData);
      const t1 = performance.now();
      if (((iccDynamicNumber[0]! << 8) | iccDynamicNumber[1]!) !== k) throw new Error('RSA recovery gave another ATC');
      return (t1 - t0) * 1000;
    },
  };
}

/**
 * One commit of one small row into a fresh WAL + synchronous=FULL database in
 * `dir`. `before`, if given, runs untimed before each commit: the paced
 * variant puts the CPU work of a decision between two commits, as the gate
 * does, because on some disks (this VM's virtio disk, for one) an fsync costs
 * more the longer it has been since the previous one.
 */
export function commitCase(dir: string, name = 'limit.commit', before?: () => void): BenchCase & { close(): void } {
  const db = new Database(join(dir, `${name}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE rows (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, value TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO rows (seq, at, value) VALUES (?, ?, ?)');
  let seq = 0;
  return {
    name,
    measure() {
      before?.();
      seq++;
      const at = new Date().toISOString();
      const t0 = performance.now();
      insert.run(seq, at, 'accepted'); // autocommit: one transaction, one WAL fsync
      const t1 = performance.now();
      return (t1 - t0) * 1000;
    },
    close() {
      db.close();
    },
  };
}
