import { z } from 'zod';
import { TrustListError, trustListSchema, TrustStore } from '../credentials/trustList.js';
import { FleetMessageError, openFleetMessage, type FleetAt } from './fleetMessage.js';

const trustUpdatePayload = z.object({
  seq: z.number().int().min(1),
  issuedAt: z.number().int().nonnegative(),
  trustList: trustListSchema,
});

export type TrustUpdate = z.infer<typeof trustUpdatePayload>;

/**
 * A trust-list update from `citygate/v1/trust`, verified with the fleet keys
 * of the trust list in force, signed as one (typ `citygate-trust`), and its
 * list loadable (every key imports): a signed list the gate could not use is
 * refused here, not when applied.
 */
export function openTrustUpdate(bytes: Uint8Array, trust: TrustStore, at: FleetAt): TrustUpdate {
  const update = openFleetMessage(bytes, trust, at, 'trust', trustUpdatePayload, 'trust-list update');
  try {
    TrustStore.fromDocument(update.trustList);
  } catch (error) {
    if (error instanceof TrustListError) throw new FleetMessageError('invalid', `trust-list update ${update.seq}: ${error.message}`);
    throw error;
  }
  return update;
}
