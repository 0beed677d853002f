import { decode, Tagged } from 'cborg';
import { refuse } from '../reasons.js';

/*
 * Strict CBOR for credentials: maps stay Maps (COSE labels are integers),
 * duplicate keys are refused, and the only tag understood is COSE_Sign1 (18).
 * Any other tag, trailing bytes or a truncated item is `malformed`.
 */
const OPTIONS = {
  useMaps: true,
  rejectDuplicateMapKeys: true,
  tags: { 18: Tagged.decoder(18) },
} as const;

export function decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, OPTIONS as Parameters<typeof decode>[1]);
  } catch (error) {
    return refuse('malformed', `${what}: ${(error as Error).message}`);
  }
}

export function isMap(value: unknown): value is Map<unknown, unknown> {
  return value instanceof Map;
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

export { Tagged };
