import mqtt, { type MqttClient } from 'mqtt';
import { until } from './until.js';

/**
 * Anyone on the broker: the fleet publishing signed messages, or an attacker
 * publishing forged, replayed or unsigned ones. Keeps what it receives.
 */
export class FleetWire {
  private readonly received: { topic: string; payload: Buffer }[] = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => this.received.push({ topic, payload }));
  }

  static async connect(url: string, name: string): Promise<FleetWire> {
    const client = mqtt.connect(url, { clientId: `${name}-${process.pid}-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 200, connectTimeout: 5_000 });
    const wire = new FleetWire(client);
    await until(`${name} connected to the broker`, () => (client.connected ? true : undefined));
    return wire;
  }

  async subscribe(topic: string): Promise<void> {
    await this.client.subscribeAsync(topic, { qos: 1 });
  }

  async publish(topic: string, payload: string | Uint8Array): Promise<void> {
    await this.client.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload), { qos: 1 });
  }

  /** Messages received on `topic`, parsed as JSON. */
  json<T>(topic: string): T[] {
    return this.received.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString('utf8')) as T);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
