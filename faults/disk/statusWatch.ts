import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '../../src/core/sync/topics.js';

/** The status document of docs/sync.md, as far as the disk faults read it. */
export interface GateStatus {
  gate: string;
  online: boolean;
  journal?: 'ok' | 'failing';
  alarms?: { type: string; detail: string; at: string }[];
  [key: string]: unknown;
}

/** Every status message of the fleet's gates, in the order the broker delivered them, as a fleet backend sees them. */
export class StatusWatch {
  private readonly byGate = new Map<string, GateStatus[]>();
  /** Status payloads that were not JSON: the contract says they are. */
  malformed = 0;

  private constructor(private readonly client: MqttClient) {}

  static async start(broker: string): Promise<StatusWatch> {
    const client = await mqtt.connectAsync(broker, { clientId: `disk-faults-status-${process.pid}`, reconnectPeriod: 500 });
    const watch = new StatusWatch(client);
    client.on('message', (_topic, payload) => watch.receive(payload));
    await client.subscribeAsync(topics.status('+'), { qos: 1 });
    return watch;
  }

  of(gate: string): readonly GateStatus[] {
    return this.byGate.get(gate) ?? [];
  }

  /** Index of the first status of `gate` at or after `from` that matches, or -1. */
  indexOf(gate: string, from: number, matches: (status: GateStatus) => boolean): number {
    const statuses = this.of(gate);
    for (let i = from; i < statuses.length; i++) if (matches(statuses[i]!)) return i;
    return -1;
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }

  private receive(payload: Buffer): void {
    let status: GateStatus;
    try {
      status = JSON.parse(payload.toString('utf8')) as GateStatus;
    } catch {
      this.malformed++;
      return;
    }
    this.byGate.set(status.gate, [...this.of(status.gate), status]);
  }
}

export function journalFailing(status: GateStatus): boolean {
  return status.online && status.journal === 'failing' && (status.alarms ?? []).some((alarm) => alarm.type === 'journal-unavailable');
}

export function journalOk(status: GateStatus): boolean {
  return status.online && status.journal === 'ok';
}
