import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { describeBrokerError, type BrokerConnection } from './brokerConnection.js';
import type { FleetState } from './fleetState.js';

/** The broker did not answer as needed; the message says which broker and what failed. */
export class BrokerError extends Error {
  override name = 'BrokerError';
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrokerError(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** One short session for a fleet-ops command: no automatic reconnect, so a dead broker fails the command instead of hanging it. */
export async function connectFleetClient(broker: BrokerConnection, timeoutMs: number): Promise<MqttClient> {
  const url = broker.shown;
  const client = connect(broker.url, {
    clientId: `citygate-fleet-${randomBytes(6).toString('hex')}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    ...broker.tls,
  });
  let failed: (error: Error) => void = () => {};
  // Errors after CONNACK surface as missing PUBACKs or results, which the callers time out on.
  client.on('error', (error) => failed(new BrokerError(`broker ${url}: ${describeBrokerError(error)}`)));
  client.on('close', () => failed(new BrokerError(`broker ${url}: connection closed before CONNACK`)));
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        failed = reject;
        client.once('connect', () => resolve());
      }),
      timeoutMs,
      `broker ${url}`,
    );
  } catch (error) {
    client.end(true);
    throw error;
  } finally {
    failed = () => {};
  }
  return client;
}

/**
 * Publish every queued message (QoS 1, oldest first) and drop each from the
 * queue once its PUBACK is in. Fails when no PUBACK arrives for `idleMs`; what
 * is not acknowledged stays queued for the next run.
 */
export async function deliverOutbox(client: MqttClient, state: FleetState, idleMs: number): Promise<number> {
  const messages = state.outbox();
  let delivered = 0;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => reject(new BrokerError(`no PUBACK for ${idleMs / 1000} s (${delivered} of ${messages.length} messages delivered)`)), idleMs);
    };
    arm();
    client.on('packetreceive', (packet) => packet.cmd === 'puback' && arm());
  });
  const all = Promise.all(
    messages.map(async (message) => {
      await client.publishAsync(message.topic, Buffer.from(message.payload), { qos: 1, retain: message.retain });
      state.delivered(message.id);
      delivered++;
    }),
  );
  try {
    await Promise.race([all, stalled]);
  } finally {
    clearTimeout(timer);
  }
  return delivered;
}
