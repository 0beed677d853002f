import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Sm2KeyError, Sm2PublicKey } from '../../crypto/sm2.js';
import type { CardDate } from './cardDate.js';
import { isEmvExponent, MAX_MODULUS_BYTES, MIN_MODULUS_BYTES, type RsaPublicKey } from './rsaCertificates.js';

/*
 * The CA public key file of DESIGN.md §5: a JSON array of
 * {"rid", "index", "algorithm": "RSA" | "SM2", "modulus", "exponent",
 *  "publicKey", "expiry": "YYYY-MM-DD", "checksum"}, hex in either case.
 *
 * checksum: for RSA keys it is required and is SHA-1 of
 * RID || index || modulus || exponent, as EMV Book 2 §11.2.2 and the payment
 * schemes publish it. For SM2 keys it is optional and, when present, SHA-1 of
 * RID || index || publicKey (04||X||Y): no scheme publishes a checksum for SM2
 * CA keys in this form, so this is this file's own guard against a mistyped
 * key, not a published value.
 */

export interface CaKey {
  /** 10 hex digits, upper case. */
  rid: string;
  /** 2 hex digits, upper case. */
  index: string;
  algorithm: 'RSA' | 'SM2';
  rsa?: RsaPublicKey;
  /** 04||X||Y; the SM2 verifier turns it into its own key type. */
  sm2PublicKey?: Uint8Array;
  /** The last day the key may be used. */
  expiry: CardDate;
}

/** The CA key file is wrong: says where and why, for the technician who wrote it. */
export class CapkError extends Error {
  override name = 'CapkError';
}

const FIELDS = ['rid', 'index', 'algorithm', 'modulus', 'exponent', 'publicKey', 'expiry', 'checksum'];
const SM2_POINT_BYTES = 65;

const hexBytes = z.string().regex(/^(?:[0-9A-Fa-f]{2})+$/, 'hex digits, two per byte');

function isCalendarDay(text: string): boolean {
  const [year, month, day] = text.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const entrySchema = z
  .strictObject({
    rid: z.string().regex(/^[0-9A-Fa-f]{10}$/, 'a RID is 5 bytes: 10 hex digits'),
    index: z.string().regex(/^[0-9A-Fa-f]{2}$/, 'an index is 1 byte: 2 hex digits'),
    algorithm: z.enum(['RSA', 'SM2']),
    modulus: hexBytes.optional(),
    exponent: hexBytes.optional(),
    publicKey: hexBytes.optional(),
    expiry: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
      .refine(isCalendarDay, 'not a day of the calendar'),
    checksum: z.string().regex(/^[0-9A-Fa-f]{40}$/, 'a SHA-1 checksum: 40 hex digits').optional(),
  })
  .superRefine((entry, context) => {
    const issue = (field: string, message: string) => context.addIssue({ code: 'custom', path: [field], message });
    const bytes = (text: string) => Buffer.from(text, 'hex');
    if (entry.algorithm === 'RSA') {
      if (entry.modulus === undefined) issue('modulus', 'missing (an RSA key needs it)');
      else {
        const modulus = bytes(entry.modulus);
        if (modulus.length < MIN_MODULUS_BYTES || modulus.length > MAX_MODULUS_BYTES) issue('modulus', `${modulus.length} bytes; EMV CA keys have ${MIN_MODULUS_BYTES} to ${MAX_MODULUS_BYTES}`);
        else if (modulus[0] === 0 || (modulus[modulus.length - 1]! & 1) === 0) issue('modulus', 'not an RSA modulus (a leading 00 byte, or even)');
      }
      if (entry.exponent === undefined) issue('exponent', 'missing (an RSA key needs it)');
      else if (!isEmvExponent(bytes(entry.exponent))) issue('exponent', 'EMV allows 03 or 010001');
      if (entry.checksum === undefined) issue('checksum', 'missing (SHA-1 of RID||index||modulus||exponent, as published with the key)');
      if (entry.publicKey !== undefined) issue('publicKey', 'for SM2 keys only; an RSA key has modulus and exponent');
    } else {
      if (entry.publicKey === undefined) issue('publicKey', 'missing (an SM2 key needs it: 04||X||Y)');
      else {
        const point = bytes(entry.publicKey);
        if (point.length !== SM2_POINT_BYTES || point[0] !== 0x04) issue('publicKey', `an uncompressed point 04||X||Y of ${SM2_POINT_BYTES} bytes`);
      }
      if (entry.modulus !== undefined) issue('modulus', 'for RSA keys only');
      if (entry.exponent !== undefined) issue('exponent', 'for RSA keys only');
    }
  });

type Entry = z.output<typeof entrySchema>;

function where(path: readonly PropertyKey[]): string {
  return path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('').replace(/^\./, '') || '(top level)';
}

function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined), document);
}

/** One line per problem: `source: [i].field: what is wrong (got value)`. */
function describe(source: string, error: z.ZodError, document: unknown): string {
  return error.issues
    .flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${source}: ${where([...issue.path, key])}: not a field of a CA key (${FIELDS.join(', ')})`);
      const value = valueAt(document, issue.path);
      if (value === undefined) return [`${source}: ${where(issue.path)}: ${issue.code === 'invalid_type' ? 'missing' : issue.message}`];
      return [`${source}: ${where(issue.path)}: ${issue.message} (got ${JSON.stringify(value)})`];
    })
    .join('\n');
}

function checksumOf(...hexParts: string[]): string {
  const hash = createHash('sha1');
  for (const part of hexParts) hash.update(Buffer.from(part, 'hex'));
  return hash.digest('hex').toUpperCase();
}

function toKey(entry: Entry, at: string): CaKey {
  const rid = entry.rid.toUpperCase();
  const index = entry.index.toUpperCase();
  const covered = entry.algorithm === 'RSA' ? [entry.rid, entry.index, entry.modulus!, entry.exponent!] : [entry.rid, entry.index, entry.publicKey!];
  if (entry.checksum !== undefined) {
    const computed = checksumOf(...covered);
    if (computed !== entry.checksum.toUpperCase()) {
      const over = entry.algorithm === 'RSA' ? 'RID||index||modulus||exponent' : 'RID||index||publicKey';
      throw new CapkError(`${at}.checksum: RID ${rid} index ${index}: SHA-1 of ${over} is ${computed} (got ${JSON.stringify(entry.checksum)})`);
    }
  }
  const [year, month, day] = entry.expiry.split('-').map(Number) as [number, number, number];
  const key: CaKey = { rid, index, algorithm: entry.algorithm, expiry: { year, month, day } };
  const bytes = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));
  if (entry.algorithm === 'RSA') key.rsa = { modulus: bytes(entry.modulus!), exponent: bytes(entry.exponent!) };
  else {
    key.sm2PublicKey = bytes(entry.publicKey!);
    // A point off the curve is refused here, with the entry named, not at the first card.
    try {
      Sm2PublicKey.parse(key.sm2PublicKey);
    } catch (error) {
      if (!(error instanceof Sm2KeyError)) throw error;
      throw new CapkError(`${at}.publicKey: RID ${rid} index ${index}: not an SM2 public key (${error.message})`);
    }
  }
  return key;
}

function keyId(rid: string, index: string): string {
  return `${rid.toUpperCase()}/${index.toUpperCase()}`;
}

/** The payment schemes' CA public keys this gate trusts, by RID and index. */
export class CaKeyStore {
  private constructor(private readonly entries: ReadonlyMap<string, CaKey>) {}

  static parse(document: unknown, source: string): CaKeyStore {
    const parsed = z.array(entrySchema).safeParse(document);
    if (!parsed.success) throw new CapkError(describe(source, parsed.error, document));
    const keys = new Map<string, { key: CaKey; at: number }>();
    parsed.data.forEach((entry, i) => {
      const key = toKey(entry, `${source}: [${i}]`);
      const first = keys.get(keyId(key.rid, key.index));
      if (first) throw new CapkError(`${source}: [${i}].index: RID ${key.rid} index ${key.index} appears twice (first at [${first.at}])`);
      keys.set(keyId(key.rid, key.index), { key, at: i });
    });
    return new CaKeyStore(new Map([...keys].map(([id, { key }]) => [id, key])));
  }

  get size(): number {
    return this.entries.size;
  }

  /** The key by RID and index (hex, either case), or undefined. Expiry is NOT applied here. */
  find(rid: string, index: string): CaKey | undefined {
    return this.entries.get(keyId(rid, index));
  }

  /** Every key, for the technician's checks (expiry ahead). */
  keys(): CaKey[] {
    return [...this.entries.values()];
  }
}
