import { InputError } from '../../src/app/settingsSchema.js';
import { topicSafe } from '../../src/core/sync/topics.js';
import { connectFleetClient, deliverOutbox } from './broker.js';
import { checkEntries, readEntriesCsv } from './denyEntries.js';
import { DenyListWatch, type GateReport } from './denyListWatch.js';
import { planDenyUpdate, type DenyPlan } from './denyPlan.js';
import { brokerFailed, checkDelivery, deliver, processOutput, record, type Delivery, type DeliveryOptions, type Output } from './delivery.js';
import { loadFleetKey, type FleetKey } from './fleetKey.js';
import { FleetState } from './fleetState.js';
import { checkIssuer } from './knownIssuers.js';

export interface FleetDenyOptions extends DeliveryOptions {
  dir: string;
  issuer: string;
  add?: readonly string[] | undefined;
  remove?: readonly string[] | undefined;
  /** CSV files whose first column lists entries to add. */
  csv?: readonly string[] | undefined;
  snapshot?: boolean | undefined;
  /** Publish for an issuer the trust list known to DIR does not name. */
  force?: boolean | undefined;
  /** Seconds to wait for the online gates to report the new seq. */
  wait?: number | undefined;
}

const DEFAULT_WAIT_SEC = 10;

interface Push {
  state: FleetState;
  key: FleetKey;
  issuer: string;
  plan: DenyPlan;
  delivery: Extract<Delivery, { print: false }>;
  waitMs: number;
  output: Output;
}

/**
 * Publish what is queued and hear from the gates: every online gate must
 * report the seq pushed within the wait. A resync request that shows a gate
 * still below it is answered once with the whole list; the retained snapshot
 * already answers one caused by this push's own delta.
 */
async function publishAndConfirm(push: Push): Promise<{ status: number; gates?: GateReport }> {
  const { state, key, issuer, plan, delivery, output } = push;
  const client = await connectFleetClient(delivery.broker, delivery.timeoutMs);
  let finished = false;
  try {
    const watch = plan.messages.length > 0 ? await DenyListWatch.start(client, issuer) : undefined;
    await deliverOutbox(client, state, delivery.timeoutMs);
    if (plan.messages.length === 0) {
      finished = true;
      return { status: 0 };
    }
    if (!watch) {
      output.err(`citygate: published seq ${plan.seq}, but the broker does not let this client read the gates' status: no gate confirmed it (fleet ops need read access to citygate/v1/gates/+/status and +/resync)`);
      finished = true;
      return { status: 1 };
    }
    let answered = false;
    const gates = await watch.settle(plan.seq, push.waitMs, async (request) => {
      if (answered || (plan.retainedSnapshot && request.saw !== undefined)) return;
      answered = true;
      output.err(`gate ${request.gate} holds seq ${request.have} of ${issuer} and asks for a resync: sending the whole list`);
      planDenyUpdate(state, key, issuer, { add: [], remove: [], snapshot: true }, Math.floor(Date.now() / 1000));
      await deliverOutbox(client, state, delivery.timeoutMs);
    });
    if (watch.gatesSeen() === 0) output.err(`note: no gate status seen on the broker: no gate has connected yet, or the broker's ACL hides citygate/v1/gates/+/status from this client; nothing confirmed seq ${plan.seq}`);
    const problems = [
      ...gates.lagging.map((g) => `${g.gate} holds seq ${g.have}`),
      ...gates.ahead.map((g) => `${g.gate} holds seq ${g.have}, above this directory's (restored from an older backup?)`),
    ];
    if (problems.length > 0) output.err(`citygate: published seq ${plan.seq}, but ${problems.length} of ${gates.online} online gate(s) did not report it within ${push.waitMs / 1000} s: ${problems.join('; ')}`);
    finished = true;
    return { status: problems.length > 0 ? 1 : 0, gates };
  } finally {
    // After a failure, do not wait for PUBACKs that did not come.
    if (finished) await client.endAsync();
    else client.end(true);
  }
}

/**
 * `citygate fleet deny`: change an issuer's deny list, sign the update(s) and
 * publish them (docs/sync.md), then wait for the online gates to report the
 * new seq. Exit 0 when every online gate did (or there was nothing to
 * publish), 1 when published but some online gate did not, 2 on an error.
 */
export async function fleetDeny(options: FleetDenyOptions, output: Output = processOutput): Promise<number> {
  const delivery = checkDelivery(options);
  if (!topicSafe(options.issuer) || options.issuer.length > 256) throw new InputError(`--issuer ${JSON.stringify(options.issuer)} is not an issuer id (1 to 256 characters, no / + #)`);
  const waitSec = options.wait ?? DEFAULT_WAIT_SEC;
  if (!(waitSec > 0)) throw new InputError('--wait must be a positive number of seconds');
  const add = [...checkEntries(options.add ?? [], '--add'), ...(options.csv ?? []).flatMap((path) => readEntriesCsv(path))];
  const remove = checkEntries(options.remove ?? [], '--remove');
  const adding = new Set(add);
  const both = remove.find((entry) => adding.has(entry));
  if (both !== undefined) throw new InputError(`${JSON.stringify(both)} is both added and removed`);
  if (add.length === 0 && remove.length === 0 && !options.snapshot) throw new InputError('nothing to publish: give --add, --remove, --csv or --snapshot');

  const key = loadFleetKey(options.dir);
  const state = new FleetState(options.dir);
  try {
    checkIssuer(state, options.dir, options.issuer, options.force ?? false, output);
    const recorded = record(state, delivery, () => planDenyUpdate(state, key, options.issuer, { add, remove, snapshot: options.snapshot ?? false }, Math.floor(Date.now() / 1000)));
    const plan = recorded.result;
    const summary = {
      issuer: options.issuer,
      seq: plan.seq,
      messages: plan.messages.map(({ payload: m, retain }) => ({ seq: m.seq, base: m.base, add: m.add.length, remove: m.remove.length, ...(m.parts ? { part: m.part, parts: m.parts } : {}), ...(retain ? { retained: true } : {}) })),
      entries: plan.entries,
      alreadyListed: plan.alreadyListed,
      notListed: plan.notListed,
    };
    if (delivery.print) {
      const status = await deliver(state, delivery, output, recorded);
      // With --print, standard output carries the messages only.
      output.err(JSON.stringify(summary));
      return status;
    }
    let outcome: { status: number; gates?: GateReport };
    try {
      outcome = await publishAndConfirm({ state, key, issuer: options.issuer, plan, delivery, waitMs: waitSec * 1000, output });
    } catch (error) {
      outcome = { status: brokerFailed(error, state, output) };
    }
    output.out(JSON.stringify({ ...summary, ...(outcome.gates ? { gates: outcome.gates } : {}) }));
    return outcome.status;
  } finally {
    state.close();
  }
}
