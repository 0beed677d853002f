import { InputError } from '../../src/app/settingsSchema.js';
import { BrokerError, connectFleetClient, deliverOutbox } from './broker.js';
import { brokerConnection, type BrokerConnection, type BrokerFlags } from './brokerConnection.js';
import type { FleetState, OutgoingMessage } from './fleetState.js';

/** Where a fleet command's signed messages go: a broker, or standard output for an air-gapped hand-over or a preview. */
export interface DeliveryOptions extends BrokerFlags {
  print?: boolean | undefined;
  /** With print: record the change and its seqs in DIR as a publish would (a hand-over: every printed line then goes to the broker by hand). */
  commit?: boolean | undefined;
  /** Seconds to wait for the broker (connect, each PUBACK). */
  timeout?: number | undefined;
}

/** The checked choice: print (recorded in DIR or only previewed), or publish to a broker. */
export type Delivery = { print: true; commit: boolean } | { print: false; broker: BrokerConnection; timeoutMs: number };

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export function checkDelivery(options: DeliveryOptions): Delivery {
  if (options.timeout !== undefined && !(options.timeout > 0)) throw new InputError('--timeout must be a positive number of seconds');
  if (options.print) {
    if (options.broker !== undefined) throw new InputError('--broker and --print exclude each other');
    return { print: true, commit: options.commit ?? false };
  }
  if (options.commit) throw new InputError('--commit goes with --print (a published message is always recorded)');
  const broker = brokerConnection(options);
  if (!broker) throw new InputError('give --broker URL to publish, or --print to write the signed messages to standard output (the broker may also come from --config FILE)');
  return { print: false, broker, timeoutMs: (options.timeout ?? 10) * 1000 };
}

/** What `record` did: the planner's result, and for a preview the messages it signed (rolled back with it). */
export interface Recorded<T> {
  result: T;
  preview?: OutgoingMessage[];
}

/**
 * Run `plan`, which changes DIR's state and queues the signed messages, in one
 * transaction. A preview (--print without --commit) is rolled back: it signs
 * what the next run would, at the same seqs, and uses none of them up, so the
 * next real push is never a gap. `plan` is told whether its work is kept, for
 * what it writes outside the database.
 */
export function record<T>(state: FleetState, delivery: Delivery, plan: (kept: boolean) => T): Recorded<T> {
  if (delivery.print && !delivery.commit) return state.preview(() => ({ result: plan(false), preview: state.outbox() }));
  return { result: state.transaction(() => plan(true)) };
}

function printLine(output: Output, message: OutgoingMessage): void {
  output.out(JSON.stringify({ topic: message.topic, retain: message.retain, payload: Buffer.from(message.payload).toString('base64') }));
}

/**
 * Hand every queued message over: with --print, one JSON line per message
 * `{"topic", "retain", "payload": base64}` on standard output (taken off the
 * queue only with --commit); otherwise publish QoS 1 and wait for each
 * PUBACK. Returns the exit status (0, or 2 when the broker failed: the
 * messages stay queued and go out with the next command).
 */
export async function deliver(state: FleetState, delivery: Delivery, output: Output, recorded: Recorded<unknown>): Promise<number> {
  if (delivery.print) {
    for (const message of recorded.preview ?? state.outbox()) {
      printLine(output, message);
      if (delivery.commit) state.delivered(message.id);
    }
    if (!delivery.commit) output.err('preview: nothing was recorded, the next run signs the same seqs; to hand these lines over for publishing, add --commit');
    return 0;
  }
  try {
    const client = await connectFleetClient(delivery.broker, delivery.timeoutMs);
    try {
      await deliverOutbox(client, state, delivery.timeoutMs);
    } catch (error) {
      // Do not wait for PUBACKs that did not come.
      client.end(true);
      throw error;
    }
    await client.endAsync();
    return 0;
  } catch (error) {
    return brokerFailed(error, state, output);
  }
}

/** Exit 2 for a broker that failed, saying what stays queued; anything else is not the broker's and is thrown on. */
export function brokerFailed(error: unknown, state: FleetState, output: Output): number {
  if (!(error instanceof BrokerError)) throw error;
  const left = state.outbox().length;
  output.err(`citygate: ${error.message}; ${left} signed message(s) stay queued and go out with the next fleet command using this --dir`);
  return 2;
}
