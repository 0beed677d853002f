import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { emvKeyFromJson, emvKeyToJson, makeEmvKey, type EmvKey, type EmvKeyJson } from './emvKey.js';
import type { RsaExponent } from './rsaKeys.js';

/*
 * Test certification authorities for simulated bank cards: a CA key under the
 * UnionPay RID, at an index no real UnionPay key uses (F1 RSA, F2 SM2 by
 * default), so a gate can never mistake one for the other. Keys are written
 * unencrypted: for development only.
 */

export const UNIONPAY_RID = 'A000000333';

export interface TestCa {
  rid: string;
  /** CA public key index `8F`, hex */
  index: string;
  /** Last day of validity, YYYY-MM-DD (the CAPK file's expiry). */
  expiry: string;
  key: EmvKey;
}

export interface TestCaOptions {
  algorithm: 'RSA' | 'SM2';
  /** Default F1 for RSA, F2 for SM2. */
  index?: string;
  /** RSA modulus bits (default 1024; UnionPay's live keys are 1152 to 1984). */
  bits?: number;
  /** RSA public exponent (default 65537). */
  exponent?: RsaExponent;
  expiry?: string;
}

export function makeTestCa(options: TestCaOptions): TestCa {
  return {
    rid: UNIONPAY_RID,
    index: (options.index ?? (options.algorithm === 'RSA' ? 'F1' : 'F2')).toUpperCase(),
    expiry: options.expiry ?? '2049-12-31',
    key: makeEmvKey(options.algorithm, options.bits ?? 1024, options.exponent ?? 65537),
  };
}

const caFileSchema = z.object({
  rid: z.string().regex(/^[0-9A-F]{10}$/),
  index: z.string().regex(/^[0-9A-F]{2}$/),
  expiry: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  key: z.discriminatedUnion('algorithm', [
    z.object({ algorithm: z.literal('RSA'), privateKey: z.looseObject({}) }),
    z.object({ algorithm: z.literal('SM2'), privateKey: z.string().regex(/^[0-9a-f]{64}$/) }),
  ]),
});

function testCaFile(dir: string, index: string): string {
  return join(dir, `emv-ca-${UNIONPAY_RID}-${index.toUpperCase()}.key.json`);
}

export function saveTestCa(ca: TestCa, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = testCaFile(dir, ca.index);
  const body = { rid: ca.rid, index: ca.index, expiry: ca.expiry, key: emvKeyToJson(ca.key) };
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** Reads a CA saved by saveTestCa; throws (with the path) when it is missing or malformed. */
export function loadTestCa(dir: string, index: string): TestCa {
  const path = testCaFile(dir, index);
  const body = caFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  return { rid: body.rid, index: body.index, expiry: body.expiry, key: emvKeyFromJson(body.key as EmvKeyJson) };
}
