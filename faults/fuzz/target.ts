import type fc from 'fast-check';

/**
 * What one input did to a parser. `accepted` may name a forgery: the input was
 * accepted, but what it was accepted as differs from what the trusted key
 * signed. A `crash` is an exception the parser's contract does not allow (of
 * the wrong type, or the decider's catch-all for a bug). A `violation` is an
 * answer the contract does not allow: a refusal without a reason code, a value
 * accepted that breaks the parser's own promise (a time past its range, a
 * delivered mark past the last tap).
 */
export type Outcome =
  | { kind: 'accepted'; forgery?: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'crash'; error: string }
  | { kind: 'violation'; problem: string };

/** One parser at the system's edge, the inputs to throw at it, and how to read what it did. */
export interface FuzzTarget<I = unknown> {
  name: string;
  /** Share of the total inputs, relative to the other targets (slow targets get less). */
  weight: number;
  arbitrary: fc.Arbitrary<I>;
  run(input: I): Outcome | Promise<Outcome>;
  /** The input as text (hex, base64 or JSON) for the figures; `decode` turns it back, to replay a crash. */
  encode(input: I): string;
  decode(encoded: string): I;
}

export const accepted: Outcome = { kind: 'accepted' };

export function refused(reason: string): Outcome {
  return reason.trim() === '' ? violated('refused without a reason') : { kind: 'refused', reason };
}

export function violated(problem: string): Outcome {
  return { kind: 'violation', problem };
}

/** Accepted, unless `problem` says what the accepted value breaks. */
export function acceptedUnless(problem: string | undefined): Outcome {
  return problem === undefined ? accepted : violated(problem);
}

export function crashed(error: unknown): Outcome {
  return { kind: 'crash', error: error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : `non-Error thrown: ${String(error)}` };
}

/**
 * A short key for a free-text reason, so that the figures count kinds of
 * refusals rather than every distinct message: quoted values and numbers go.
 */
export function reasonKey(text: string): string {
  return text
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\d+/g, 'N')
    .slice(0, 60);
}

export const hex = {
  encode: (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex'),
  decode: (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex')),
};

/** Text inputs are stored as JSON strings, so that control characters and lone surrogates survive. */
export const jsonText = {
  encode: (text: string): string => JSON.stringify(text),
  decode: (encoded: string): string => JSON.parse(encoded) as string,
};
