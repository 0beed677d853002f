import type { z } from 'zod';
import { decodeCbor, isMap } from '../credentials/cbor.js';
import { parseCoseSign1, toBeSigned } from '../credentials/cose.js';
import { verifySignature } from '../credentials/publicKey.js';
import { kidText, type TrustStore } from '../credentials/trustList.js';
import { Refusal } from '../reasons.js';

export type FleetRejection = 'malformed' | 'unknown-key' | 'bad-signature' | 'invalid';

/** A fleet message (deny-list update, command, trust list) that is refused; `detail` goes to the log. */
export class FleetMessageError extends Error {
  override name = 'FleetMessageError';
  constructor(
    readonly reason: FleetRejection,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

/** CBOR maps with text keys become plain objects, so one schema reads the CBOR and the JSON form. */
function plain(value: unknown, what: string): unknown {
  if (isMap(value)) {
    const object: Record<string, unknown> = {};
    for (const [key, item] of value) {
      if (typeof key !== 'string') throw new FleetMessageError('malformed', `${what}: map key ${String(key)} is not text`);
      object[key] = plain(item, what);
    }
    return object;
  }
  if (Array.isArray(value)) return value.map((item) => plain(item, what));
  return value;
}

function decodePayload(payload: Uint8Array, what: string): unknown {
  if (payload[0] === 0x7b) {
    try {
      return JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch (error) {
      throw new FleetMessageError('malformed', `${what}: payload is not JSON: ${(error as Error).message}`);
    }
  }
  return plain(decodeCbor(payload, `${what} payload`), what);
}

/**
 * Verify a COSE_Sign1 from fleet ops (docs/sync.md) against the trust list's
 * fleet keys and return its payload, parsed with `schema`. Throws
 * FleetMessageError, never anything else.
 */
export function openFleetMessage<S extends z.ZodType>(bytes: Uint8Array, trust: TrustStore, nowSec: number, schema: S, what: string): z.infer<S> {
  let payload: unknown;
  try {
    const sign1 = parseCoseSign1(bytes, 'optional', what);
    const kid = sign1.kid ? kidText(sign1.kid) : undefined;
    const key = kid === undefined ? undefined : trust.fleetKeys.get(kid);
    if (!key) throw new FleetMessageError('unknown-key', `${what}: kid ${kid ?? '(none)'} is not a fleet-ops key`);
    if ((key.nbf !== undefined && nowSec < key.nbf) || (key.exp !== undefined && nowSec >= key.exp)) {
      throw new FleetMessageError('unknown-key', `${what}: fleet-ops key ${kid} is not in force`);
    }
    if (key.alg !== sign1.alg) throw new FleetMessageError('bad-signature', `${what}: signed with ${sign1.alg}, key ${kid} is ${key.alg}`);
    if (!verifySignature(key, toBeSigned(sign1), sign1.signature)) throw new FleetMessageError('bad-signature', `${what}: signature does not verify with ${kid}`);
    payload = decodePayload(sign1.payload, what);
  } catch (error) {
    if (error instanceof FleetMessageError) throw error;
    if (error instanceof Refusal) throw new FleetMessageError('malformed', error.detail);
    throw new FleetMessageError('malformed', `${what}: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FleetMessageError('invalid', `${what}: ${issue.path.join('.') || '(payload)'}: ${issue.message}`);
  }
  return parsed.data;
}
