import { z } from 'zod';
import type { Tap } from '../../src/core/tap.js';
import { emvTapSchema, TAP_KINDS } from '../tapRecord.js';

/** At most this many taps in a batch (docs/sync.md). */
const MAX_TAPS_PER_BATCH = 500;
/** A tap is at most this many bytes as JSON, whatever its fields: a real one is under 2 KB (a bank-card tap, the largest, about 1 KB). */
export const MAX_TAP_BYTES = 16 * 1024;
/**
 * The largest batch body read at all, checked before it is decoded: 500 real
 * taps are under 1 MiB, so a gate's batch is never near it.
 */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Fields an open object (product, place, a newer gate's own tap fields) may carry. */
const MAX_FIELDS = 16;

const text = z.string().min(1).max(256);
/** What an open object's fields a gate does not know yet may hold: one short value each, no nesting. */
const scalar = z.union([z.string().max(256), z.number(), z.boolean(), z.null()]);
const fieldCount = (max: number) => (value: object) => Object.keys(value).length <= max;
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/*
 * The tap fields of DESIGN.md §4. Mode and reason are open text: a newer gate
 * may add a mode or one of its own reasons, and its taps must still be stored.
 */
const productSchema = z
  .object({ site: text.optional(), zone: text.optional(), from: z.number().optional(), until: z.number().optional(), entries: z.number().int().min(0).optional() })
  .catchall(scalar)
  .refine(fieldCount(MAX_FIELDS), `at most ${MAX_FIELDS} fields`);
const placeSchema = z
  .object({ operator: text.optional(), route: text.optional(), stop: text.optional(), station: text.optional() })
  .catchall(scalar)
  .refine(fieldCount(MAX_FIELDS), `at most ${MAX_FIELDS} fields`);
/** The claim data holds 11 tags (docs/credentials.md); room for a few more, not for thousands. */
const emvSchema = emvTapSchema.refine((emv) => fieldCount(32)(emv.data), 'emv.data: at most 32 tags');

const tapSchema = z.object({
  id: z.uuid(),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  at: z.string().regex(ISO_UTC_MS, 'ISO-8601 UTC with milliseconds').refine((at) => !Number.isNaN(Date.parse(at)), 'not a real time'),
  gate: text,
  site: text,
  mode: text,
  kind: z.enum(TAP_KINDS),
  issuer: text.nullable(),
  subject: text.nullable(),
  category: text.nullable(),
  result: z.enum(['accepted', 'refused']),
  reason: text,
  fare: z.number().int().min(0).nullable(),
  product: productSchema.nullable(),
  latencyMs: z.number().min(0),
  place: placeSchema.nullable().default(null),
  emv: emvSchema.nullable().default(null),
})
  // Fields a newer gate adds are kept (a few, the whole tap bounded in bytes).
  .catchall(z.unknown())
  .refine(fieldCount(32), 'at most 32 fields')
  .refine((tap) => Buffer.byteLength(JSON.stringify(tap)) <= MAX_TAP_BYTES, `a tap is at most ${MAX_TAP_BYTES} bytes as JSON`);

const batchSchema = z.object({
  gate: text,
  /** The gate's delivered mark when it sent the batch; absent from gates before it was added. */
  delivered: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  // No taps: the gate asks where this collector stands (docs/sync.md, "Taps"); answered with an ack, nothing stored.
  taps: z.array(tapSchema).max(MAX_TAPS_PER_BATCH),
});

/** A batch as stored: the taps as the gate sent them. */
export interface TapBatch {
  gate: string;
  /** Every tap up to this seq was acknowledged to the gate (by this collector or another, maybe since pruned). */
  delivered: number | undefined;
  taps: Tap[];
}

/** Why a batch is not stored (logged; the batch is not acknowledged). */
export class MalformedBatch extends Error {
  override name = 'MalformedBatch';
}

/** Read a batch from `citygate/v1/gates/{topicGate}/taps`: JSON, the gate of the topic, taps of that gate in rising seq. */
export function parseTapBatch(body: Uint8Array, topicGate: string): TapBatch {
  // Before anything reads it: decoding a huge body is the cost a forged batch would impose.
  if (body.byteLength > MAX_BATCH_BYTES) throw new MalformedBatch(`batch of ${body.byteLength} bytes, more than the ${MAX_BATCH_BYTES} a batch may have: not read`);
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    throw new MalformedBatch(`not JSON: ${(error as Error).message}`);
  }
  const parsed = batchSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MalformedBatch(`${issue.path.join('.') || '(batch)'}: ${issue.message}`);
  }
  const batch = parsed.data;
  if (batch.gate !== topicGate) throw new MalformedBatch(`batch of gate ${JSON.stringify(batch.gate)} on the topic of ${JSON.stringify(topicGate)}`);
  batch.taps.forEach((tap, i) => {
    if (tap.gate !== topicGate) throw new MalformedBatch(`taps.${i}: tap of gate ${JSON.stringify(tap.gate)} in a batch of ${JSON.stringify(topicGate)}`);
    const previous = batch.taps[i - 1];
    if (previous && tap.seq <= previous.seq) throw new MalformedBatch(`taps.${i}: seq ${tap.seq} after ${previous.seq}: taps must come in rising seq`);
  });
  return { gate: batch.gate, delivered: batch.delivered, taps: batch.taps as Tap[] };
}
