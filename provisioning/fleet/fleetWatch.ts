import { randomBytes } from 'node:crypto';
import { connect } from 'mqtt';
import { InputError } from '../../src/app/settingsSchema.js';
import { topics, topicSafe } from '../../src/core/sync/topics.js';
import { checkDelivery, processOutput, type Output } from './delivery.js';

export interface FleetWatchOptions {
  broker: string;
  /** One gate; all gates when absent. */
  gate?: string | undefined;
  /** Stops the watch (SIGINT/SIGTERM on the command line). */
  signal: AbortSignal;
}

const GATE_TOPIC = /^citygate\/v1\/gates\/([^/]+)\/(status|resync)$/;

function lineFor(topic: string, body: Buffer): string | undefined {
  const match = GATE_TOPIC.exec(topic);
  if (!match) return undefined;
  const [, gate, kind] = match;
  if (body.length === 0) return JSON.stringify({ kind, gate, cleared: true });
  try {
    const message: unknown = JSON.parse(body.toString('utf8'));
    if (message === null || typeof message !== 'object' || Array.isArray(message)) return JSON.stringify({ kind, gate, error: 'not a JSON object' });
    return JSON.stringify({ kind, gate, ...message });
  } catch {
    return JSON.stringify({ kind, gate, error: 'not JSON' });
  }
}

/**
 * `citygate fleet watch`: print one JSON line per status (retained, so every
 * gate's last one comes first) and per resync request, until stopped.
 */
export async function fleetWatch(options: FleetWatchOptions, output: Output = processOutput): Promise<number> {
  checkDelivery({ broker: options.broker });
  if (options.gate !== undefined && !topicSafe(options.gate)) throw new InputError(`--gate ${JSON.stringify(options.gate)} is not a gate id (no / + #)`);
  const gate = options.gate ?? '+';
  const client = connect(options.broker, { clientId: `citygate-watch-${randomBytes(6).toString('hex')}`, clean: true, reconnectPeriod: 2000 });
  client.on('message', (topic, body) => {
    const line = lineFor(topic, body);
    if (line) output.out(line);
  });
  client.on('connect', () => {
    client.subscribe([topics.status(gate), topics.resync(gate)], { qos: 1 }, (error) => {
      if (error) output.err(`citygate: subscribe failed: ${error.message}`);
    });
  });
  client.on('offline', () => output.err(`citygate: broker ${options.broker} unreachable; retrying`));
  client.on('error', (error) => output.err(`citygate: broker ${options.broker}: ${error.message}`));
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await client.endAsync();
  return 0;
}
