import fc from 'fast-check';
import { MalformedBatch, parseTapBatch } from '../../provisioning/collector/tapBatch.js';
import type { Tap } from '../../src/core/tap.js';
import { jsonShapes, mutatedJson } from './jsonMutators.js';
import { charOf, mutatedText } from './mutators.js';
import { acceptedUnless, crashed, reasonKey, type FuzzTarget, type Outcome } from './target.js';
import { GATE_ID, SITE } from './world.js';

/*
 * What the reference collector takes from `citygate/v1/gates/{gate}/taps`:
 * a batch is stored whole or refused with MalformedBatch, and a stored batch
 * holds only taps of the topic's gate in rising seq.
 */

const TAP_FIELDS = ['id', 'seq', 'at', 'gate', 'site', 'mode', 'kind', 'issuer', 'subject', 'category', 'result', 'reason', 'fare', 'product', 'latencyMs', 'place', 'emv'];

function tap(seq: number, overrides: Partial<Tap> = {}): Tap {
  return {
    id: `01890a5d-ac96-774b-bcce-b302099a8${String(seq).padStart(3, '0')}`,
    seq,
    at: `2027-01-15T08:00:0${seq % 10}.123Z`,
    gate: GATE_ID,
    site: SITE,
    mode: 'venue',
    kind: 'code',
    issuer: 'cq.yukuaima',
    subject: 'acct-1',
    category: 'adult',
    result: 'accepted',
    reason: 'ok',
    fare: 200,
    product: { entries: 1, site: SITE },
    latencyMs: 12.5,
    place: null,
    emv: null,
    ...overrides,
  };
}

const BATCHES: unknown[] = [
  { gate: GATE_ID, taps: [tap(1), tap(2, { result: 'refused', reason: 'expired', fare: null, kind: 'card' }), tap(3, { place: { route: '12', stop: 's4' } })] },
  { gate: GATE_ID, taps: [tap(7, { issuer: null, subject: null, category: null, product: null, kind: 'uid', reason: 'not-allowed', result: 'refused', fare: null })] },
];
const TOPICS = [GATE_ID, GATE_ID, GATE_ID, 'other-gate'];

export interface BatchInput {
  body: string;
  topic: string;
}

function stored(topic: string, batch: ReturnType<typeof parseTapBatch>): string | undefined {
  if (batch.gate !== topic) return `batch of ${batch.gate} stored from the topic of ${topic}`;
  // No taps is a gate's ask (answered, nothing stored); more than 500 is never taken.
  if (batch.taps.length > 500) return `batch of ${batch.taps.length} taps stored`;
  for (const [i, t] of batch.taps.entries()) {
    if (t.gate !== topic) return `tap ${i} of gate ${t.gate} stored in a batch of ${topic}`;
    if (i > 0 && t.seq <= batch.taps[i - 1]!.seq) return `tap ${i} with seq ${t.seq} stored after ${batch.taps[i - 1]!.seq}`;
  }
  return undefined;
}

export function tapBatchTarget(): FuzzTarget<BatchInput> {
  const texts = BATCHES.map((b) => JSON.stringify(b));
  const bodies = fc.oneof(
    { weight: 4, arbitrary: mutatedJson(BATCHES, ['gate', 'taps', ...TAP_FIELDS]).map((m) => JSON.stringify(m.value) ?? '') },
    { weight: 2, arbitrary: mutatedText(texts, charOf('{}[]":,0123456789-.TZ:')).map((m) => m.value) },
    { weight: 1, arbitrary: jsonShapes(['gate', 'taps', ...TAP_FIELDS], 3).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  );
  return {
    name: 'collector-tap-batch',
    weight: 3,
    arbitrary: fc.record({ body: bodies, topic: fc.constantFrom(...TOPICS) }),
    run: (input): Outcome => {
      try {
        const problem = stored(input.topic, parseTapBatch(Buffer.from(input.body, 'utf8'), input.topic));
        return acceptedUnless(problem);
      } catch (error) {
        if (error instanceof MalformedBatch && error.message !== '') return { kind: 'refused', reason: reasonKey(error.message.split(':')[0]!) };
        return crashed(error);
      }
    },
    encode: (input) => JSON.stringify(input),
    decode: (text) => JSON.parse(text) as BatchInput,
  };
}
