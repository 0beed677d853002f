import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { gateOfTopic, topics } from '../../src/core/sync/topics.js';

/** Where the gates stand after a push: what `fleet deny` reports instead of assuming success. */
export interface GateReport {
  /** Gates whose last status says online. */
  online: number;
  /** Online gates that reported the seq pushed. */
  current: number;
  /** Gates whose last status says offline: their session or the retained snapshot brings them the list when they connect. */
  offline: number;
  /** Online gates still below the seq pushed when the wait ended. */
  lagging: { gate: string; have: number }[];
  /** Online gates above it: this directory is behind what the gates were sent (a restored backup?). */
  ahead: { gate: string; have: number }[];
}

export interface ResyncRequest {
  gate: string;
  have: number;
  /** The update that showed the gap; absent when a command asked for the resync. */
  saw: { seq: number; base: number } | undefined;
}

const seq = z.number().int().nonnegative();
const statusSchema = z.looseObject({ online: z.boolean(), denyList: z.record(z.string(), seq).optional() });
const resyncSchema = z.looseObject({ issuer: z.string(), have: seq, saw: z.looseObject({ seq, base: seq }).optional() });
/** MQTT 3.1.1 SUBACK return code for a refused subscription. */
const SUBSCRIPTION_REFUSED = 0x80;

function parse<S extends z.ZodType>(schema: S, body: Buffer): z.output<S> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(body.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The gates' own word on one issuer's deny list, from their retained status
 * (`denyList` seqs, `online`) and their resync requests. Started before a push,
 * so every gate's last status is in when the push is done. The gate is the
 * topic's (the broker's ACL lets a gate publish only under its own id).
 */
export class DenyListWatch {
  private readonly gates = new Map<string, { online: boolean; have: number }>();
  private readonly requests: ResyncRequest[] = [];
  private changed: () => void = () => {};

  private constructor(private readonly issuer: string) {}

  /** Subscribe to every gate's status and resync requests; undefined when the broker refuses either (no right to read them). */
  static async start(client: MqttClient, issuer: string): Promise<DenyListWatch | undefined> {
    const watch = new DenyListWatch(issuer);
    client.on('message', (topic, body) => watch.receive(topic, body));
    const granted = await client.subscribeAsync([topics.status('+'), topics.resync('+')], { qos: 1 });
    return granted.some((grant) => grant.qos === SUBSCRIPTION_REFUSED) ? undefined : watch;
  }

  private receive(topic: string, body: Buffer): void {
    const statusOf = gateOfTopic(topic, 'status');
    if (statusOf !== undefined) {
      const status = body.length === 0 ? undefined : parse(statusSchema, body);
      if (status) this.gates.set(statusOf, { online: status.online, have: status.denyList?.[this.issuer] ?? 0 });
      else if (body.length === 0) this.gates.delete(statusOf);
    }
    const resyncOf = gateOfTopic(topic, 'resync');
    if (resyncOf !== undefined) {
      const request = parse(resyncSchema, body);
      if (request?.issuer === this.issuer) this.requests.push({ gate: resyncOf, have: request.have, saw: request.saw });
    }
    this.changed();
  }

  /** Gates whose status (online or not) the broker let this client see. */
  gatesSeen(): number {
    return this.gates.size;
  }

  /** Where every known gate stands against `seq` now. */
  report(seq: number): GateReport {
    const report: GateReport = { online: 0, current: 0, offline: 0, lagging: [], ahead: [] };
    for (const [gate, { online, have }] of [...this.gates].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!online) {
        report.offline++;
        continue;
      }
      report.online++;
      if (have === seq) report.current++;
      else (have < seq ? report.lagging : report.ahead).push({ gate, have });
    }
    return report;
  }

  /**
   * Wait until every online gate reports `seq` or more, or `waitMs` passed.
   * Resync requests that arrive meanwhile for a seq below it go to `answer`
   * (which publishes the snapshot), in arrival order.
   */
  async settle(seq: number, waitMs: number, answer: (request: ResyncRequest) => Promise<void>): Promise<GateReport> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        let answering = false;
        const check = (): void => {
          if (answering) return;
          const request = this.requests.shift();
          if (request !== undefined) {
            if (request.have < seq) {
              answering = true;
              answer(request).then(() => {
                answering = false;
                check();
              }, reject);
              return;
            }
            check();
            return;
          }
          if (this.report(seq).lagging.length === 0) resolve();
        };
        this.changed = check;
        timer = setTimeout(resolve, waitMs);
        check();
      });
    } finally {
      clearTimeout(timer);
      this.changed = () => {};
    }
    return this.report(seq);
  }
}
