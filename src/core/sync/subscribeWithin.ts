import type { MqttClient } from 'mqtt';

/**
 * Subscribes to `topics` (QoS 1) and waits for the broker's SUBACK at most
 * `timeoutMs`: a broker that never answers would otherwise leave the gate
 * connected and deaf. `timeout` tells the caller to drop the connection.
 */
export async function subscribeWithin(client: MqttClient, topics: string[], timeoutMs: number): Promise<'subscribed' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const subscribed = client.subscribeAsync(topics, { qos: 1 }).then(() => 'subscribed' as const);
  // Lost to the timeout, the subscription is failed by mqtt.js when the connection closes: not an unhandled rejection.
  subscribed.catch(() => undefined);
  try {
    return await Promise.race([subscribed, expired]);
  } finally {
    clearTimeout(timer);
  }
}
