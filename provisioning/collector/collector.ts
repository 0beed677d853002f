import { connect, type MqttClient } from 'mqtt';
import { InputError } from '../../src/app/settingsSchema.js';
import type { Log } from '../../src/core/log.js';
import { redactUrl } from '../../src/core/sync/brokerUrl.js';
import { fallBackToMqtt311 } from '../../src/core/sync/mqtt311Fallback.js';
import { gateOfTopic, topics } from '../../src/core/sync/topics.js';
import { describeBrokerError } from '../fleet/brokerConnection.js';
import { MalformedBatch, parseTapBatch } from './tapBatch.js';
import { SqliteTapStorage } from './sqliteTapStorage.js';
import type { BatchOutcome, GateProgress } from './tapStore.js';
import { openTapStorage, type IncomingBatch, type TapStorage } from './tapStorage.js';

export interface CollectorOptions {
  /** Any user:password in it is used to connect and never logged. */
  broker: string;
  /** PEM text: the broker's CA, and the collector's client certificate and key. */
  tls?: { ca?: string; cert?: string; key?: string } | undefined;
  /** SQLite file of the taps, or a `postgres://` URL (PostgreSQL, one database for several collectors). */
  db: string;
  /** Stable across restarts: alone, the broker keeps this session's messages while the collector is away. */
  clientId: string;
  /**
   * Join a shared subscription (`$share/{share}/...`) with other collectors:
   * each batch goes to one of them. They must write to the same database (or
   * the broker must send each gate to one collector), or acks stop at holes.
   */
  share?: string | undefined;
  log: Log;
}

export interface CollectorCounts {
  batches: number;
  stored: number;
  duplicates: number;
  conflicts: number;
  malformed: number;
}

export interface CollectorStats extends CollectorCounts {
  gates: GateProgress[];
}

const TAPS_OF_EVERY_GATE = topics.taps('+');
const STOP_GRACE_MS = 2_000;
/** At most this many batches in one transaction: what arrived while the previous commit was under way. */
const MAX_BATCHES_PER_COMMIT = 64;
/**
 * Seconds between keepalives: a collector that hangs (a frozen host, a
 * stopped process) is dropped by the broker after one and a half of them,
 * and with `--share` the others get its share from then on.
 */
const KEEPALIVE_S = 5;
/** MQTT 5: batches the broker may hand this collector before it has acknowledged them (mqtt.js acknowledges each as it reads it): all that a hung collector holds. */
export const RECEIVE_MAXIMUM = MAX_BATCHES_PER_COMMIT;
/** MQTT 5 session expiry of a collector alone on the taps, as the gates' own. */
const SESSION_EXPIRY_S = 7 * 86_400;

/**
 * The reference collector (docs/fleet-tools.md): every gate's taps, stored
 * once by id, acked per gate up to the contiguous seq stored, only once
 * committed. Batches are stored in the order they arrive; those that arrive
 * while a commit is under way go together into the next transaction. With
 * SQLite a batch arriving while the collector is idle is committed before the
 * broker gets its PUBACK; with PostgreSQL the PUBACK may come first, and a
 * batch lost in a crash before its commit is sent again by its gate, which
 * never got an ack for it.
 */
export class Collector {
  private store: TapStorage | undefined;
  private readonly queue: IncomingBatch[] = [];
  private flushing: Promise<void> | undefined;
  private client: MqttClient | undefined;
  private readonly counters = { batches: 0, stored: 0, duplicates: 0, conflicts: 0, malformed: 0 };

  constructor(private readonly options: CollectorOptions) {}

  /** Open the database, connect and subscribe; resolves once the first subscription is granted. */
  async start(): Promise<void> {
    const { log } = this.options;
    try {
      this.store = await openTapStorage(this.options.db);
    } catch (error) {
      throw new InputError(`cannot open the tap store ${redactUrl(this.options.db)}: ${(error as Error).message || String(error)}`);
    }
    const broker = redactUrl(this.options.broker);
    // Alone, the collector keeps a session: the broker holds the batches while it restarts. In a share group
    // the session ends with the connection: what the broker had routed to a collector that died or hung is
    // dropped, not kept to be stored late as duplicates, and its gates, never acked, send it to the others.
    const alone = this.options.share === undefined;
    const client = connect(this.options.broker, {
      clientId: this.options.clientId,
      clean: !alone,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: alone ? SESSION_EXPIRY_S : 0, receiveMaximum: RECEIVE_MAXIMUM },
      keepalive: KEEPALIVE_S,
      reconnectPeriod: 1000,
      ...this.options.tls,
    });
    this.client = client;
    client.on('message', (topic, body) => this.receive(topic, body));
    client.on('offline', () => log.warn({ broker }, 'broker unreachable; reconnecting'));
    client.on('error', (error) => {
      if (fallBackToMqtt311(client, error)) log.info({ broker }, 'the broker does not speak MQTT 5: using MQTT 3.1.1');
      else log.warn({ broker, error: describeBrokerError(error) }, 'broker error');
    });
    await new Promise<void>((resolve) => {
      client.on('connect', (connack) => {
        const filter = this.options.share === undefined ? TAPS_OF_EVERY_GATE : `$share/${this.options.share}/${TAPS_OF_EVERY_GATE}`;
        client.subscribe(filter, { qos: 1 }, (error) => {
          if (error) {
            log.error({ error: error.message }, 'subscription refused');
            return;
          }
          log.info({ broker, sessionPresent: connack.sessionPresent }, 'collecting');
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
    await this.flushing;
    const store = this.store;
    this.store = undefined;
    await store?.close();
  }

  /** The counts and, read at once, each gate's progress: an embedded SQLite store only (see gaps()). */
  stats(): CollectorStats {
    return { ...this.counters, gates: this.gaps() };
  }

  counts(): CollectorCounts {
    return { ...this.counters };
  }

  /** The counts and each gate's progress from any store; the progress left out when the store cannot answer (a database down). */
  async summary(): Promise<CollectorCounts & { gates?: GateProgress[] }> {
    const gates = await this.progress().catch(() => undefined);
    return { ...this.counters, ...(gates ? { gates } : {}) };
  }

  /** Per gate: the contiguous seq stored and the holes above it, read at once from an embedded SQLite store. */
  gaps(): GateProgress[] {
    const store = this.store;
    if (store === undefined) return [];
    if (!(store instanceof SqliteTapStorage)) throw new Error('gaps() reads an embedded SQLite store: await progress() with PostgreSQL');
    return store.store.progress();
  }

  /** Per gate: the contiguous seq stored and the holes above it, from any store. */
  async progress(): Promise<GateProgress[]> {
    return (await this.store?.progress()) ?? [];
  }

  private receive(topic: string, body: Buffer): void {
    const { log } = this.options;
    const gate = gateOfTopic(topic, 'taps');
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
    this.queue.push({ gate, taps: batch.taps, delivered: batch.delivered });
    this.drain(store);
  }

  /** Idle, the store is called at once (SQLite commits there, before the PUBACK); busy, the batch joins the next commit. */
  private drain(store: TapStorage): void {
    if (this.flushing) return;
    this.flushing = this.flush(store).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0 && this.store) this.drain(this.store);
    });
  }

  private async flush(store: TapStorage): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_BATCHES_PER_COMMIT);
      if (await this.commit(store, group)) continue;
      // One batch the database refuses must not hold back the others' acks: each alone, then.
      if (group.length > 1) for (const batch of group) await this.commit(store, [batch]);
    }
  }

  /** Store a group in one transaction and ack each batch; false, logged per batch, when nothing was stored. */
  private async commit(store: TapStorage, group: IncomingBatch[]): Promise<boolean> {
    let outcomes;
    try {
      outcomes = await store.storeBatches(group, new Date().toISOString());
    } catch (error) {
      if (group.length > 1) return false;
      const detail = (error as Error).message || String(error);
      this.options.log.error({ gate: group[0]!.gate, error: detail }, 'cannot store batch: not acked, the gate will send it again');
      return false;
    }
    group.forEach(({ gate, taps }, i) => this.settle(gate, outcomes[i]!, taps.length === 0));
    return true;
  }

  /** Count, log and ack one committed batch; an ask is answered even for a gate with nothing stored (upTo 0). */
  private settle(gate: string, outcome: BatchOutcome, ask: boolean): void {
    const { log } = this.options;
    this.counters.stored += outcome.stored;
    this.counters.duplicates += outcome.duplicates;
    this.counters.conflicts += outcome.conflicts.length;
    for (const { tap, stored } of outcome.conflicts) log.error({ gate, id: tap.id, seq: tap.seq, received: tap, stored }, 'tap id already stored with other content: kept the first');
    if (outcome.opened) log.warn({ gate, missingFrom: outcome.opened.from, missingTo: outcome.opened.to }, 'gap in seq: taps missing; acks stop below it');
    if (outcome.filled) log.info({ gate, upTo: outcome.upTo }, 'gap filled');
    if (outcome.upTo >= 1 || ask) this.client?.publish(topics.tapsAck(gate), JSON.stringify({ upTo: outcome.upTo }), { qos: 1 });
  }
}
