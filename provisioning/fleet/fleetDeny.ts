import { InputError } from '../../src/app/settingsSchema.js';
import { topicSafe } from '../../src/core/sync/topics.js';
import { checkEntries, readEntriesCsv } from './denyEntries.js';
import { planDenyUpdate } from './denyPlan.js';
import { checkDelivery, deliver, processOutput, type DeliveryOptions, type Output } from './delivery.js';
import { loadFleetKey } from './fleetKey.js';
import { FleetState } from './fleetState.js';

export interface FleetDenyOptions extends DeliveryOptions {
  dir: string;
  issuer: string;
  add?: readonly string[] | undefined;
  remove?: readonly string[] | undefined;
  /** CSV files whose first column lists entries to add. */
  csv?: readonly string[] | undefined;
  snapshot?: boolean | undefined;
}

/**
 * `citygate fleet deny`: change an issuer's deny list, sign the update(s) and
 * publish them (docs/sync.md). Exit 0 when delivered (or nothing to publish), 2 otherwise.
 */
export async function fleetDeny(options: FleetDenyOptions, output: Output = processOutput): Promise<number> {
  checkDelivery(options);
  if (!topicSafe(options.issuer) || options.issuer.length > 256) throw new InputError(`--issuer ${JSON.stringify(options.issuer)} is not an issuer id (1 to 256 characters, no / + #)`);
  const add = [...checkEntries(options.add ?? [], '--add'), ...(options.csv ?? []).flatMap((path) => readEntriesCsv(path))];
  const remove = checkEntries(options.remove ?? [], '--remove');
  const adding = new Set(add);
  const both = remove.find((entry) => adding.has(entry));
  if (both !== undefined) throw new InputError(`${JSON.stringify(both)} is both added and removed`);
  if (add.length === 0 && remove.length === 0 && !options.snapshot) throw new InputError('nothing to publish: give --add, --remove, --csv or --snapshot');

  const key = loadFleetKey(options.dir);
  const state = new FleetState(options.dir);
  try {
    const plan = planDenyUpdate(state, key, options.issuer, { add, remove, snapshot: options.snapshot ?? false }, Math.floor(Date.now() / 1000));
    const summary = {
      issuer: options.issuer,
      seq: plan.seq,
      messages: plan.messages.map((m) => ({ seq: m.seq, base: m.base, add: m.add.length, remove: m.remove.length, ...(m.parts ? { part: m.part, parts: m.parts } : {}) })),
      entries: plan.entries,
      alreadyListed: plan.alreadyListed,
      notListed: plan.notListed,
    };
    const status = await deliver(state, options, output);
    // With --print, standard output carries the messages only.
    (options.print ? output.err : output.out)(JSON.stringify(summary));
    return status;
  } finally {
    state.close();
  }
}
