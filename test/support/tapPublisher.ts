import { connectAsync, type MqttClient } from 'mqtt';
import { v7 as uuidv7 } from 'uuid';
import type { Tap } from '../../src/core/tap.js';
import { waitFor } from './waitFor.js';

/** A valid tap of `gate` with seq `seq`, fields as a gate writes them. */
export function makeTap(gate: string, seq: number, overrides: Partial<Tap> = {}): Tap {
  return {
    id: uuidv7(),
    seq,
    at: new Date(Date.UTC(2026, 10, 23, 8, 0, 0, seq % 1000)).toISOString(),
    gate,
    site: 'S1',
    mode: 'metro-entry',
    kind: 'code',
    issuer: 'cq.yukuaima',
    subject: `acct-${seq}`,
    category: 'adult',
    result: 'accepted',
    reason: 'ok',
    fare: 200,
    product: { site: 'S1', entries: 1 },
    latencyMs: 12.5,
    place: { station: 'Jiefangbei' },
    emv: null,
    ...overrides,
  };
}

/** Taps `from..to` of `gate`. */
export function makeTaps(gate: string, from: number, to: number): Tap[] {
  return Array.from({ length: to - from + 1 }, (_, i) => makeTap(gate, from + i));
}

/** What a gate does on the wire: publish tap batches (QoS 1) and collect the acks it gets. */
export class TapPublisher {
  readonly acks: number[] = [];
  private constructor(
    readonly gate: string,
    private readonly client: MqttClient,
  ) {}

  static async connect(url: string, gate: string): Promise<TapPublisher> {
    const client = await connectAsync(url, { clientId: `gate-${gate}`, reconnectPeriod: 100 });
    const publisher = new TapPublisher(gate, client);
    client.on('message', (_topic, body) => publisher.acks.push((JSON.parse(body.toString()) as { upTo: number }).upTo));
    await client.subscribeAsync(`citygate/v1/gates/${gate}/taps/ack`, { qos: 1 });
    return publisher;
  }

  /** The highest ack so far: the gate's delivered mark. */
  get delivered(): number {
    return Math.max(0, ...this.acks);
  }

  /** A batch with the gate's delivered mark, as gates since issue 7 send it. */
  async send(taps: readonly Tap[], delivered: number): Promise<void> {
    await this.client.publishAsync(`citygate/v1/gates/${this.gate}/taps`, JSON.stringify({ gate: this.gate, delivered, taps }), { qos: 1 });
  }

  async ackFor(upTo: number, timeoutMs?: number): Promise<void> {
    await waitFor(() => this.acks.some((ack) => ack >= upTo), `ack ${upTo} for ${this.gate}`, timeoutMs);
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
