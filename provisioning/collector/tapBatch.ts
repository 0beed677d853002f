import { z } from 'zod';
import type { Tap } from '../../src/core/tap.js';
import { emvTapSchema, TAP_KINDS } from '../tapRecord.js';

/** At most this many taps in a batch (docs/sync.md). */
const MAX_TAPS_PER_BATCH = 500;

const text = z.string().min(1).max(256);
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/*
 * The tap fields of DESIGN.md §4. Mode and reason are open text: a newer gate
 * may add a mode or one of its own reasons, and its taps must still be stored.
 */
const tapSchema = z.looseObject({
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
  product: z.looseObject({}).nullable(),
  latencyMs: z.number().min(0),
  place: z.looseObject({}).nullable().default(null),
  emv: emvTapSchema.nullable().default(null),
});

const batchSchema = z.object({
  gate: text,
  /** The gate's delivered mark when it sent the batch; absent from gates before it was added. */
  delivered: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  taps: z.array(tapSchema).min(1).max(MAX_TAPS_PER_BATCH),
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
