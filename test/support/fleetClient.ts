import mqtt, { type MqttClient } from 'mqtt';
import { waitFor } from './waitFor.js';

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** The fleet side in a test: a plain mqtt client that records what it receives. */
export class FleetClient {
  readonly received: Received[] = [];
  private readonly handlers: ((message: Received) => void)[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const message = { topic, payload, retain: packet.retain };
      this.received.push(message);
      for (const handler of this.handlers) handler(message);
    });
  }

  static async connect(url: string, name: string): Promise<FleetClient> {
    const client = mqtt.connect(url, { clientId: `${name}-${process.pid}-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 200, connectTimeout: 5_000 });
    const fleet = new FleetClient(client);
    await waitFor(() => client.connected, `${name} connected to the broker`);
    return fleet;
  }

  onMessage(handler: (message: Received) => void): void {
    this.handlers.push(handler);
  }

  async subscribe(topic: string): Promise<void> {
    await this.client.subscribeAsync(topic, { qos: 1 });
  }

  async publish(topic: string, payload: string | Uint8Array, retain = false): Promise<void> {
    await this.client.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload), { qos: 1, retain });
  }

  /** Messages on `topic` parsed as JSON. */
  json<T = Record<string, unknown>>(topic: string): T[] {
    return this.received.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString('utf8')) as T);
  }

  /** Wait for a JSON message on `topic` that `match` accepts, and return it. */
  async next<T = Record<string, unknown>>(topic: string, match: (message: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
    let found: T | undefined;
    await waitFor(
      () => {
        found = this.json<T>(topic).find(match);
        return found !== undefined;
      },
      what,
      timeoutMs,
    );
    return found!;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** A gate's answer on `.../cmd/result` (docs/sync.md). */
export interface CommandResult {
  nonce: string | null;
  type: string | null;
  result: 'done' | 'refused';
  reason: string;
}

export interface TapMessage {
  id: string;
  seq: number;
  [field: string]: unknown;
}

/**
 * What a collector does (docs/sync.md): keeps taps by id, acks per gate the
 * highest seq below which every tap is stored. Counts the duplicates it got.
 */
export class TestCollector {
  readonly stored = new Map<string, TapMessage>();
  readonly batches: { gate: string; taps: TapMessage[] }[] = [];
  duplicates = 0;
  /** A seq that came with two different ids: the gate broke "strictly increasing, no gaps". */
  readonly conflicts: string[] = [];
  autoAck = true;
  private readonly seqs = new Map<string, Map<number, string>>();

  constructor(readonly fleet: FleetClient) {
    fleet.onMessage((message) => {
      if (!/^citygate\/v1\/gates\/[^/]+\/taps$/.test(message.topic)) return;
      const batch = JSON.parse(message.payload.toString('utf8')) as { gate: string; taps: TapMessage[] };
      this.batches.push(batch);
      const bySeq = this.seqs.get(batch.gate) ?? new Map<number, string>();
      this.seqs.set(batch.gate, bySeq);
      for (const tap of batch.taps) {
        if (this.stored.has(tap.id)) this.duplicates++;
        else this.stored.set(tap.id, tap);
        const earlier = bySeq.get(tap.seq);
        if (earlier !== undefined && earlier !== tap.id) this.conflicts.push(`seq ${tap.seq} of ${batch.gate}: ${earlier} and ${tap.id}`);
        bySeq.set(tap.seq, tap.id);
      }
      if (this.autoAck) void this.ack(batch.gate, this.contiguous(batch.gate));
    });
  }

  static async start(url: string): Promise<TestCollector> {
    const fleet = await FleetClient.connect(url, 'collector');
    await fleet.subscribe('citygate/v1/gates/+/taps');
    return new TestCollector(fleet);
  }

  /** Highest seq with every seq from 1 to it stored. */
  contiguous(gate: string): number {
    const bySeq = this.seqs.get(gate);
    let seq = 0;
    while (bySeq?.has(seq + 1)) seq++;
    return seq;
  }

  storedFor(gate: string): TapMessage[] {
    return [...this.stored.values()].filter((tap) => tap.gate === gate).sort((a, b) => a.seq - b.seq);
  }

  async ack(gate: string, upTo: number): Promise<void> {
    if (!this.fleet.client.connected) return;
    await this.fleet.publish(`citygate/v1/gates/${gate}/taps/ack`, JSON.stringify({ upTo })).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.fleet.close();
  }
}
