import { readFileSync } from 'node:fs';
import { InputError, parseWith } from '../../src/app/settingsSchema.js';
import { kidText, TrustListError, TrustStore, trustListSchema } from '../../src/core/credentials/trustList.js';
import { topics } from '../../src/core/sync/topics.js';
import { checkDelivery, deliver, processOutput, record, type DeliveryOptions, type Output } from './delivery.js';
import { loadFleetKey } from './fleetKey.js';
import { signFleetMessage } from './fleetSigner.js';
import { FleetState } from './fleetState.js';
import { keepMessage } from './keptMessages.js';
import { TRUST_DOCUMENT } from './knownIssuers.js';

const TRUST_SEQ = 'trust';

export interface FleetTrustOptions extends DeliveryOptions {
  dir: string;
  /** The trust-list document (DESIGN.md §2) to put in force on every gate. */
  file: string;
}

function readTrustList(path: string): { document: unknown; store: TrustStore } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const trustList = parseWith(trustListSchema, document, path);
  let store: TrustStore;
  try {
    store = TrustStore.fromDocument(trustList);
  } catch (error) {
    if (error instanceof TrustListError) throw new InputError(`${path}: ${error.message}`);
    throw error;
  }
  // A list without fleet keys would leave the gates unable to accept any further update or command.
  if (store.fleetKeys.size === 0) throw new InputError(`${path}: "fleet" is empty: gates would refuse every later update and command`);
  return { document: trustList, store };
}

/**
 * `citygate fleet trust`: sign a trust-list update `{seq, issuedAt, trustList}`
 * with the next seq and publish it retained on `citygate/v1/trust`.
 */
export async function fleetTrust(options: FleetTrustOptions, output: Output = processOutput): Promise<number> {
  const delivery = checkDelivery(options);
  const trustList = readTrustList(options.file);
  const key = loadFleetKey(options.dir);
  const state = new FleetState(options.dir);
  try {
    const recorded = record(state, delivery, () => {
      const next = state.counter(TRUST_SEQ) + 1;
      state.setCounter(TRUST_SEQ, next);
      state.setDocument(TRUST_DOCUMENT, JSON.stringify(trustList.document));
      const payload = signFleetMessage(key, { seq: next, issuedAt: Math.floor(Date.now() / 1000), trustList: trustList.document }, 'trust');
      state.queue(topics.trust, payload, true);
      keepMessage(state, 'trust', { seq: next, payload });
      return next;
    });
    const seq = recorded.result;
    const signer = kidText(key.kid);
    if (!trustList.store.fleetKeys.has(signer)) output.err(`note: this list does not contain the signing key ${signer}; sign later updates with a key it lists`);
    const status = await deliver(state, delivery, output, recorded);
    (options.print ? output.err : output.out)(JSON.stringify({ topic: topics.trust, seq }));
    return status;
  } finally {
    state.close();
  }
}
