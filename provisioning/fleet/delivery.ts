import { InputError } from '../../src/app/settingsSchema.js';
import { BrokerError, connectFleetClient, deliverOutbox } from './broker.js';
import type { FleetState } from './fleetState.js';

/** Where a fleet command's signed messages go: a broker, or standard output for an air-gapped hand-over. */
export interface DeliveryOptions {
  broker?: string | undefined;
  print?: boolean | undefined;
  /** Seconds to wait for the broker (connect, each PUBACK). */
  timeout?: number | undefined;
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export function checkDelivery(options: DeliveryOptions): void {
  if (options.broker === undefined && !options.print) throw new InputError('give --broker URL to publish, or --print to write the signed messages to standard output');
  if (options.broker !== undefined && options.print) throw new InputError('--broker and --print exclude each other');
  if (options.broker !== undefined && !/^(mqtts?|wss?|tcp|ssl):\/\/[^/]/.test(options.broker)) {
    throw new InputError(`--broker ${JSON.stringify(options.broker)} is not a broker URL such as mqtt://host:1883 or mqtts://host:8883`);
  }
  if (options.timeout !== undefined && !(options.timeout > 0)) throw new InputError('--timeout must be a positive number of seconds');
}

/**
 * Hand every queued message over: with --print, one JSON line per message
 * `{"topic", "retain", "payload": base64}` on standard output; otherwise
 * publish QoS 1 and wait for each PUBACK. Returns the exit status (0, or 2 when
 * the broker failed: the messages stay queued and go out with the next command).
 */
export async function deliver(state: FleetState, options: DeliveryOptions, output: Output): Promise<number> {
  if (options.print) {
    for (const message of state.outbox()) {
      output.out(JSON.stringify({ topic: message.topic, retain: message.retain, payload: Buffer.from(message.payload).toString('base64') }));
      state.delivered(message.id);
    }
    return 0;
  }
  const timeoutMs = (options.timeout ?? 10) * 1000;
  try {
    const client = await connectFleetClient(options.broker!, timeoutMs);
    try {
      await deliverOutbox(client, state, timeoutMs);
    } catch (error) {
      // Do not wait for PUBACKs that did not come.
      client.end(true);
      throw error;
    }
    await client.endAsync();
    return 0;
  } catch (error) {
    if (!(error instanceof BrokerError)) throw error;
    const left = state.outbox().length;
    output.err(`citygate: ${error.message}; ${left} signed message(s) stay queued and go out with the next fleet command using this --dir`);
    return 2;
  }
}
