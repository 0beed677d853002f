import { connect, type MqttClient } from 'mqtt';
import type { Log } from '../../src/core/log.js';
import { topics } from '../../src/core/sync/topics.js';
import { MalformedBatch, parseTapBatch } from './tapBatch.js';
import { TapStore, type GateProgress } from './tapStore.js';

export interface CollectorOptions {
  broker: string;
  /** SQLite file of the taps. */
  db: string;
  /** Stable across restarts: the broker keeps this session's messages while the collector is away. */
  clientId: string;
  /**
   * Join a shared subscription (`$share/{share}/...`) with other collectors:
   * each batch goes to one of them. They must write to the same database (or
   * the broker must send each gate to one collector), or acks stop at holes.
   */
  share?: string | undefined;
  log: Log;
}

export interface CollectorStats {
  batches: number;
  stored: number;
  duplicates: number;
  conflicts: number;
  malformed: number;
  gates: GateProgress[];
}

const TAPS_OF_EVERY_GATE = topics.taps('+');
const TAPS_TOPIC = /^citygate\/v1\/gates\/([^/]+)\/taps$/;
const STOP_GRACE_MS = 2_000;

/**
 * The reference collector (docs/fleet-tools.md): every gate's taps, stored
 * once by id, acked per gate up to the contiguous seq stored. Batches are
 * handled one at a time, synchronously, before the broker gets its PUBACK.
 */
export class Collector {
  private store: TapStore | undefined;
  private client: MqttClient | undefined;
  private readonly counters = { batches: 0, stored: 0, duplicates: 0, conflicts: 0, malformed: 0 };

  constructor(private readonly options: CollectorOptions) {}

  /** Open the database, connect and subscribe; resolves once the first subscription is granted. */
  async start(): Promise<void> {
    const { log } = this.options;
    this.store = new TapStore(this.options.db);
    const client = connect(this.options.broker, {
      clientId: this.options.clientId,
      clean: false,
      reconnectPeriod: 1000,
    });
    this.client = client;
    client.on('message', (topic, body) => this.receive(topic, body));
    client.on('offline', () => log.warn({ broker: this.options.broker }, 'broker unreachable; reconnecting'));
    client.on('error', (error) => log.warn({ broker: this.options.broker, error: error.message }, 'broker error'));
    await new Promise<void>((resolve) => {
      client.on('connect', (connack) => {
        const filter = this.options.share === undefined ? TAPS_OF_EVERY_GATE : `$share/${this.options.share}/${TAPS_OF_EVERY_GATE}`;
        client.subscribe(filter, { qos: 1 }, (error) => {
          if (error) {
            log.error({ error: error.message }, 'subscription refused');
            return;
          }
          log.info({ broker: this.options.broker, sessionPresent: connack.sessionPresent }, 'collecting');
          resolve();
        });
      });
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      // Acks not yet sent are not lost: without them the gates send those taps again.
      const grace = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), STOP_GRACE_MS).unref());
      const ended = await Promise.race([client.endAsync().then(() => true), grace]);
      if (!ended) client.end(true);
    }
    this.store?.close();
    this.store = undefined;
  }

  stats(): CollectorStats {
    return { ...this.counters, gates: this.gaps() };
  }

  /** Per gate: the contiguous seq stored and the holes above it. */
  gaps(): GateProgress[] {
    return this.store?.progress() ?? [];
  }

  private receive(topic: string, body: Buffer): void {
    const { log } = this.options;
    const gate = TAPS_TOPIC.exec(topic)?.[1];
    const store = this.store;
    if (gate === undefined || !store) return;
    this.counters.batches++;
    let batch;
    try {
      batch = parseTapBatch(body, gate);
    } catch (error) {
      this.counters.malformed++;
      const detail = error instanceof MalformedBatch ? error.message : String(error);
      log.warn({ gate, error: detail, bytes: body.length }, 'malformed batch: not stored, not acked');
      return;
    }
    let outcome;
    try {
      outcome = store.storeBatch(gate, batch.taps, new Date().toISOString(), batch.delivered);
    } catch (error) {
      log.error({ gate, error: (error as Error).message }, 'cannot store batch: not acked, the gate will send it again');
      return;
    }
    this.counters.stored += outcome.stored;
    this.counters.duplicates += outcome.duplicates;
    this.counters.conflicts += outcome.conflicts.length;
    for (const { tap, stored } of outcome.conflicts) log.error({ gate, id: tap.id, seq: tap.seq, received: tap, stored }, 'tap id already stored with other content: kept the first');
    if (outcome.opened) log.warn({ gate, missingFrom: outcome.opened.from, missingTo: outcome.opened.to }, 'gap in seq: taps missing; acks stop below it');
    if (outcome.filled) log.info({ gate, upTo: outcome.upTo }, 'gap filled');
    if (outcome.upTo >= 1) this.client?.publish(topics.tapsAck(gate), JSON.stringify({ upTo: outcome.upTo }), { qos: 1 });
  }
}
