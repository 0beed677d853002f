import { z } from 'zod';
import { CONTRACT_REASONS, GATE_REASONS } from '../src/core/reasons.js';
import { MODES } from '../src/core/settings.js';
import type { PurseTapData } from '../src/core/credentials/tunion/purseData.js';
import type { Tap } from '../src/core/tap.js';

/** The fields of a tap (DESIGN.md §4), in the order they are written. */
export const TAP_FIELDS = ['id', 'seq', 'at', 'gate', 'site', 'mode', 'kind', 'issuer', 'subject', 'category', 'result', 'reason', 'fare', 'product', 'latencyMs', 'place', 'emv', 'purse'] as const satisfies readonly (keyof Tap)[];

export const TAP_KINDS = ['card', 'code', 'uid', 'emv', 'tunion'] as const;

const hex = z.string().regex(/^([0-9A-F]{2})*$/, 'upper-case hex');

/** A bank card's claim data on a tap: the masked PAN only, never the clear one. */
export const emvTapSchema = z.strictObject({
  aid: hex.min(10).max(32),
  pan: z.string().regex(/^\d{6}\*+\d{4}$/, 'a masked PAN: first 6 and last 4 digits'),
  psn: z.string().regex(/^\d{2}$/),
  expiry: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  atc: z.number().int().min(0).max(0xffff),
  oda: z.enum(['rsa', 'sm2']),
  data: z.record(z.string().regex(/^[0-9A-F]{2,4}$/), hex.max(128)),
});

const isoUtc = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'ISO-8601 UTC with milliseconds');

/** One exported tap read back: a file from the field is checked like any other input. */
export const tapRecordSchema = z.strictObject({
  id: z.uuid(),
  seq: z.number().int().min(1),
  at: isoUtc,
  gate: z.string().min(1),
  site: z.string().min(1),
  mode: z.enum(MODES),
  kind: z.enum(TAP_KINDS),
  issuer: z.string().nullable(),
  subject: z.string().nullable(),
  category: z.string().nullable(),
  result: z.enum(['accepted', 'refused']),
  reason: z.enum([...CONTRACT_REASONS, ...GATE_REASONS]),
  fare: z.number().int().min(0).nullable(),
  product: z
    .strictObject({
      site: z.string().optional(),
      from: z.number().optional(),
      until: z.number().optional(),
      entries: z.number().int().min(0),
      zone: z.string().optional(),
    })
    .nullable(),
  latencyMs: z.number().min(0),
  // Exports from before places were journaled have none.
  place: z.strictObject({ route: z.string().optional(), stop: z.string().optional(), station: z.string().optional() }).nullable().default(null),
  // Exports from before bank cards have none.
  emv: emvTapSchema.nullable().default(null),
  // A T-Union purse tap's purchase (src/core/credentials/tunion/purseData.ts); other taps have none.
  purse: z
    .looseObject({ card: z.string().regex(/^\d{20}$/), state: z.enum(['debited', 'completed', 'pending', 'none']) })
    .nullable()
    .optional()
    .transform((purse) => purse as PurseTapData | null | undefined),
});

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const CSV_HEADER = TAP_FIELDS.join(',');

/** One CSV row (RFC 4180): empty for null, the product as JSON text. */
export function tapCsvRow(tap: Tap): string {
  return TAP_FIELDS.map((field) => csvCell(tap[field])).join(',');
}

/** One JSON line, fields in DESIGN.md §4 order whatever order the object was built in. */
export function tapJsonLine(tap: Tap): string {
  return JSON.stringify(Object.fromEntries(TAP_FIELDS.map((field) => [field, tap[field]])));
}
