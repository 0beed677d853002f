import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { rsaExponent, rsaModulus } from './rsaKeys.js';
import { sm2PublicKey } from './sm2Signer.js';
import type { TestCa } from './testCa.js';

/*
 * The CA public key file a gate loads (DESIGN.md §5): a JSON array of
 * {rid, index, algorithm, modulus, exponent | publicKey, expiry, checksum}.
 * RSA entries carry modulus and exponent, SM2 entries publicKey (04 || X || Y).
 */

export interface CapkEntry {
  rid: string;
  index: string;
  algorithm: 'RSA' | 'SM2';
  modulus?: string;
  exponent?: string;
  publicKey?: string;
  expiry: string;
  checksum: string;
}

/** SHA-1 of RID || index || modulus || exponent (RSA, as EMV terminals check it) or RID || index || publicKey (SM2). */
export function capkChecksum(entry: Omit<CapkEntry, 'checksum'>): string {
  const key = entry.algorithm === 'RSA' ? `${entry.modulus}${entry.exponent}` : entry.publicKey;
  return createHash('sha1').update(Buffer.from(`${entry.rid}${entry.index}${key}`, 'hex')).digest('hex').toUpperCase();
}

export function capkEntry(ca: TestCa): CapkEntry {
  const { rid, index, expiry } = ca;
  const entry: Omit<CapkEntry, 'checksum'> =
    ca.key.algorithm === 'RSA'
      ? { rid, index, algorithm: 'RSA', modulus: upper(rsaModulus(ca.key.key)), exponent: upper(rsaExponent(ca.key.key)), expiry }
      : { rid, index, algorithm: 'SM2', publicKey: `04${upper(sm2PublicKey(ca.key.key))}`, expiry };
  return { ...entry, checksum: capkChecksum(entry) };
}

export function writeCapkFile(path: string, entries: readonly CapkEntry[]): void {
  writeFileSync(path, `${JSON.stringify(entries, null, 2)}\n`);
}

function upper(bytes: Buffer): string {
  return bytes.toString('hex').toUpperCase();
}
