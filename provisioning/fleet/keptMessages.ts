import { z } from 'zod';
import type { FleetState } from './fleetState.js';

/** The retained lists whose signed message DIR keeps, named as their seq counters. */
export type KeptList = 'trust' | 'revocations';
export const KEPT_LISTS: readonly KeptList[] = ['trust', 'revocations'];

/** A signed message as it was published, with what the fleet service needs of it without opening it. */
export interface KeptMessage {
  seq: number;
  /** The revocation list's expiry (epoch seconds): past it, gates refuse the message. */
  exp?: number;
  payload: Uint8Array;
}

const keptSchema = z.object({
  seq: z.number().int().positive(),
  exp: z.number().int().positive().optional(),
  payload: z.base64().min(1),
});

const documentName = (list: KeptList): string => `${list}-message`;

/**
 * Keep the message just signed for `list`, as the last published: the fleet
 * service sends these exact bytes again (ops' signature and `exp`) to a gate
 * that lags. Call it in the transaction that takes the seq, so that a
 * preview rolls it back with the seq.
 */
export function keepMessage(state: FleetState, list: KeptList, message: KeptMessage): void {
  const { seq, exp, payload } = message;
  state.setDocument(documentName(list), JSON.stringify({ seq, ...(exp === undefined ? {} : { exp }), payload: Buffer.from(payload).toString('base64') }));
}

/** The message kept for `list`; undefined when none was (a directory of an earlier version) or it no longer reads. */
export function keptMessage(state: FleetState, list: KeptList): KeptMessage | undefined {
  const text = state.document(documentName(list));
  if (text === undefined) return undefined;
  let parsed;
  try {
    parsed = keptSchema.safeParse(JSON.parse(text));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const { seq, exp, payload } = parsed.data;
  return { seq, ...(exp === undefined ? {} : { exp }), payload: new Uint8Array(Buffer.from(payload, 'base64')) };
}
