import mqtt, { type MqttClient } from 'mqtt';

const TAPS_TOPIC = /^citygate\/v1\/gates\/([^/]+)\/taps$/;

/**
 * Watches tap batches go by on the broker, so that a kill can land right as a
 * gate uploads (its batch out, the collector's ack not yet back).
 */
export class UploadWatch {
  private readonly listeners = new Map<string, Set<() => void>>();

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic) => {
      const gate = TAPS_TOPIC.exec(topic)?.[1];
      if (gate !== undefined) for (const listener of this.listeners.get(gate) ?? []) listener();
    });
  }

  static async start(brokerUrl: string): Promise<UploadWatch> {
    const client = await mqtt.connectAsync(brokerUrl, { clientId: `crash-upload-watch-${process.pid}`, reconnectPeriod: 500 });
    await client.subscribeAsync('citygate/v1/gates/+/taps', { qos: 0 });
    return new UploadWatch(client);
  }

  /** Calls `listener` for each batch `gate` publishes from now on; returns the unsubscribe. */
  onBatch(gate: string, listener: () => void): () => void {
    const set = this.listeners.get(gate) ?? new Set();
    set.add(listener);
    this.listeners.set(gate, set);
    return () => set.delete(listener);
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }
}
