import { z } from 'zod';
import { trustListSchema, type TrustStore } from '../credentials/trustList.js';
import { openFleetMessage } from './fleetMessage.js';

const trustUpdatePayload = z.object({
  seq: z.number().int().min(1),
  issuedAt: z.number().int().nonnegative(),
  trustList: trustListSchema,
});

export type TrustUpdate = z.infer<typeof trustUpdatePayload>;

/** A trust-list update from `citygate/v1/trust`, verified with the fleet keys of the trust list in force. */
export function openTrustUpdate(bytes: Uint8Array, trust: TrustStore, nowSec: number): TrustUpdate {
  return openFleetMessage(bytes, trust, nowSec, trustUpdatePayload, 'trust-list update');
}
