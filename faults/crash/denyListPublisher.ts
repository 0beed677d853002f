import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '../../src/core/sync/topics.js';
import type { CrashParties } from './fleetKeys.js';

/** New subjects each snapshot adds to the deny list. */
const ADDED_PER_SNAPSHOT = 2;

/** Every subject deny-listed by snapshot `seq`: snapshots are cumulative. */
export function denySubjects(seq: number): string[] {
  const subjects: string[] = [];
  for (let s = 1; s <= seq; s++) for (let j = 1; j <= ADDED_PER_SNAPSHOT; j++) subjects.push(`deny-${s}-${j}`);
  return subjects;
}

/**
 * Fleet ops publishing a fresh full snapshot of the deny list every so often,
 * retained: gates apply them while being killed, and take the latest at each
 * restart. A gate that has held snapshot k must refuse every subject in it.
 */
export class DenyListPublisher {
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: MqttClient,
    private readonly parties: CrashParties,
  ) {}

  static async start(brokerUrl: string, parties: CrashParties, intervalMs: number): Promise<DenyListPublisher> {
    const client = await mqtt.connectAsync(brokerUrl, { clientId: `crash-fleet-${process.pid}`, reconnectPeriod: 500 });
    const publisher = new DenyListPublisher(client, parties);
    await publisher.publishNext();
    publisher.timer = setInterval(() => {
      publisher.publishing = publisher.publishing.then(() => publisher.publishNext());
    }, intervalMs);
    return publisher;
  }

  published(): number {
    return this.seq;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.publishing;
    await this.client.endAsync();
  }

  private async publishNext(): Promise<void> {
    const seq = this.seq + 1;
    const issuer = this.parties.issuer.id;
    const update = this.parties.signDenyList({ issuer, seq, base: 0, add: denySubjects(seq), remove: [], issuedAt: Math.floor(Date.now() / 1000) });
    try {
      await this.client.publishAsync(topics.denyList(issuer), Buffer.from(update), { qos: 1, retain: true });
      this.seq = seq;
    } catch {
      // Not published: the next tick tries the same seq again.
    }
  }
}
