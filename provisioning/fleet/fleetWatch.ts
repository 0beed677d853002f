import { randomBytes } from 'node:crypto';
import { connect } from 'mqtt';
import { InputError } from '../../src/app/settingsSchema.js';
import { gateOfTopic, topics, topicSafe } from '../../src/core/sync/topics.js';
import { brokerConnection, describeBrokerError, type BrokerFlags } from './brokerConnection.js';
import { processOutput, type Output } from './delivery.js';

export interface FleetWatchOptions extends BrokerFlags {
  /** One gate; all gates when absent. */
  gate?: string | undefined;
  /** Stops the watch (SIGINT/SIGTERM on the command line). */
  signal: AbortSignal;
}

/**
 * The line for one message. The gate is the topic's: the broker lets a gate
 * publish only under its own id (per-gate ACL), while the payload is whatever
 * the publisher wrote. A payload naming another gate is shown as a mismatch,
 * under the topic's gate, with none of its fields: it is never attributed to
 * the gate it names. `kind` and `gate` come last, so no payload field replaces them.
 */
export function watchLine(topic: string, body: Buffer): string | undefined {
  const kind = topic.endsWith('/status') ? 'status' : 'resync';
  const gate = gateOfTopic(topic, kind);
  if (gate === undefined) return undefined;
  if (body.length === 0) return JSON.stringify({ kind, gate, cleared: true });
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch {
    return JSON.stringify({ kind, gate, error: 'not JSON' });
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return JSON.stringify({ kind, gate, error: 'not a JSON object' });
  const named = (message as Record<string, unknown>).gate;
  if (named !== undefined && named !== gate) {
    return JSON.stringify({ kind, gate, error: 'gate mismatch: the payload names another gate; ignored', payloadGate: typeof named === 'string' ? named : JSON.stringify(named) });
  }
  return JSON.stringify({ ...message, kind, gate });
}

/**
 * `citygate fleet watch`: print one JSON line per status (retained, so every
 * gate's last one comes first) and per resync request, until stopped.
 */
export async function fleetWatch(options: FleetWatchOptions, output: Output = processOutput): Promise<number> {
  const broker = brokerConnection(options);
  if (!broker) throw new InputError('give --broker URL (or --config FILE naming it)');
  if (options.gate !== undefined && !topicSafe(options.gate)) throw new InputError(`--gate ${JSON.stringify(options.gate)} is not a gate id (no / + #)`);
  const gate = options.gate ?? '+';
  const client = connect(broker.url, { clientId: `citygate-watch-${randomBytes(6).toString('hex')}`, clean: true, reconnectPeriod: 2000, ...broker.tls });
  client.on('message', (topic, body) => {
    const line = watchLine(topic, body);
    if (line) output.out(line);
  });
  client.on('connect', () => {
    client.subscribe([topics.status(gate), topics.resync(gate)], { qos: 1 }, (error) => {
      if (error) output.err(`citygate: subscribe failed: ${error.message}`);
    });
  });
  client.on('offline', () => output.err(`citygate: broker ${broker.shown} unreachable; retrying`));
  client.on('error', (error) => output.err(`citygate: broker ${broker.shown}: ${describeBrokerError(error)}`));
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await client.endAsync();
  return 0;
}
