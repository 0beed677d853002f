import mqtt from 'mqtt';
import { topics } from '../../src/core/sync/topics.js';

/**
 * The status the broker holds retained for `gate`, as a newcomer sees it on
 * subscribing; undefined when it holds none (or the broker is unreachable).
 */
export async function retainedStatus(url: string, gate: string, waitMs = 1_000): Promise<Record<string, unknown> | undefined> {
  let client;
  try {
    client = await mqtt.connectAsync(url, { clientId: `status-look-${process.pid}-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0, connectTimeout: 2_000 });
  } catch {
    return undefined;
  }
  try {
    const retained = new Promise<Record<string, unknown> | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), waitMs);
      client.on('message', (_topic, payload, packet) => {
        if (!packet.retain) return;
        clearTimeout(timer);
        resolve(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
      });
    });
    await client.subscribeAsync(topics.status(gate), { qos: 1 });
    return await retained;
  } finally {
    await client.endAsync(true);
  }
}
