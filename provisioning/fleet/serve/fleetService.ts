import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import type { Log } from '../../../src/core/log.js';
import { gateOfTopic, topics, topicSafe } from '../../../src/core/sync/topics.js';
import { describeBrokerError, type BrokerConnection } from '../brokerConnection.js';
import type { FleetKey } from '../fleetKey.js';
import { KEPT_LISTS, type KeptList } from '../keptMessages.js';
import { DenySnapshots } from './denySnapshots.js';
import { GateRegistry, type GateEntry } from './gateRegistry.js';
import { parseGateStatus, type GateStatus, type StatusRefusal } from './gateStatus.js';
import { issuerViews, type FleetView } from './fleetView.js';
import { KEPT_TOPICS, KeptLists } from './keptLists.js';
import { ResyncAnswers, type AnswerCause, type ListMessage } from './resyncAnswers.js';
import { TapRate } from './tapRate.js';

/** What the service counts, for its metrics. */
export interface ServiceEvents {
  status(refused: StatusRefusal | undefined): void;
  resyncRequest(issuer: string | undefined): void;
  snapshotSent(issuer: string, causes: ReadonlyMap<string, AnswerCause>): void;
  /** The trust or revocation list sent again to lagging gates. */
  listSent(list: KeptList): void;
  taps(site: string, count: number): void;
}

export interface FleetServiceOptions {
  dir: string;
  key: FleetKey;
  broker: BrokerConnection;
  /** Stable across restarts: the broker keeps resync requests for the service's session while it is down. */
  clientId: string;
  log: Log;
  events: ServiceEvents;
  /** Read tap batches (read-only) to count taps per site. */
  countTaps: boolean;
  /** How long a gate's status may show it behind before the service sends the list: a push under way reaches it first. */
  lagGraceMs?: number;
}

const DEFAULT_LAG_GRACE_MS = 2_000;
/** Unknown sites on the chart. */
export const NO_SITE = '(no site)';
const seq = z.number().int().nonnegative();
const resyncSchema = z.object({ issuer: z.string().min(1).max(256).refine(topicSafe), have: seq });
/** The status field each kept list's seq is reported in; a gate of an earlier version reports neither. */
const STATUS_SEQ: Record<KeptList, 'trustListSeq' | 'revocationSeq'> = { trust: 'trustListSeq', revocations: 'revocationSeq' };
const NOT_KEPT: Record<KeptList, string> = {
  trust: 'this directory holds no signed trust list at its seq (written by an earlier version): run citygate fleet trust --dir DIR --file trust.json --broker URL again so the service can send it to lagging gates',
  revocations: 'this directory holds no signed revocation list at its seq (written by an earlier version): run citygate fleet revoke --dir DIR --broker URL (no changes) again so the service can send it to lagging gates',
};
/** How long before the revocation list runs out ops are told to sign it again, and how often the service looks. */
const EXPIRY_NOTICE_SEC = 7 * 86_400;
const EXPIRY_CHECK_MS = 3_600_000;
const SIGN_AGAIN = 'sign it again with a fresh expiry, citygate fleet revoke --dir DIR --broker URL (no changes)';
const EXPIRES_SOON = `the revocation list held expires within 7 days; gates that connect after that get none: ${SIGN_AGAIN}`;
const EXPIRED = `the revocation list held has expired and gates refuse it, so it is not sent to lagging gates: ${SIGN_AGAIN}`;

/**
 * `citygate fleet serve`: the fleet's side on the broker, at all times. It
 * keeps every gate's last status (the registry, in DIR), answers resync
 * requests with the whole deny list at the seq DIR holds, and sends it by
 * itself to an online gate whose status stays below that seq (a new or
 * replacement gate at seq 0, one that missed a push), once per gate and seq
 * until the gate reconnects (again once back on the broker, if the send
 * failed); likewise the trust and revocation lists, as
 * `fleet trust` and `fleet revoke` signed them. It counts taps per site from
 * the gates' batches.
 * Every message is validated; none can throw into the service.
 */
export class FleetService {
  readonly changes = new EventEmitter();
  private client: MqttClient | undefined;
  private readonly registry: GateRegistry;
  private readonly snapshots: DenySnapshots;
  private readonly answers: ResyncAnswers;
  private readonly kept: KeptLists;
  private readonly listAnswers: ResyncAnswers<KeptList>;
  private readonly listsSent: Record<KeptList, number> = { trust: 0, revocations: 0 };
  /** List -> the seq last logged as not sendable (not kept, expired): said once per seq, not per status. */
  private readonly unsendable = new Map<KeptList, number>();
  /** The revocation seq last said to expire soon: said once per seq. */
  private expiryNoticed = 0;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly taps = new TapRate();
  private readonly gates = new Map<string, GateEntry>();
  private readonly lagTimers = new Map<string, NodeJS.Timeout>();
  /** gate + issuer (or a kept list's topic, which no issuer can be) -> the seq the service last sent that gate because of its status: sent once, not on every status. */
  private readonly answeredLag = new Map<string, number>();
  /** Gates whose lag answer failed to go out: checked again once the service is back on the broker. */
  private readonly lagAfterReconnect = new Set<string>();
  private readonly snapshotsSent = new Map<string, number>();
  private connected = false;

  constructor(private readonly options: FleetServiceOptions) {
    this.registry = new GateRegistry(options.dir);
    for (const entry of this.registry.gates()) this.gates.set(entry.gate, entry);
    this.snapshots = new DenySnapshots(options.dir, options.key);
    const publish = (message: ListMessage) => this.publish(message.topic, message.payload, message.retain);
    this.answers = new ResyncAnswers({
      source: this.snapshots,
      publish,
      log: options.log,
      what: () => 'deny-list snapshot',
      field: 'issuer',
      onSent: (issuer, _seq, causes) => {
        this.snapshotsSent.set(issuer, (this.snapshotsSent.get(issuer) ?? 0) + 1);
        options.events.snapshotSent(issuer, causes);
        this.changed();
      },
      onFailed: (issuer, causes) => this.answerFailed(issuer, causes),
    });
    this.kept = new KeptLists(options.dir);
    this.listAnswers = new ResyncAnswers({
      source: this.kept,
      publish,
      log: options.log,
      what: (list) => (list === 'trust' ? 'trust list' : 'revocation list'),
      field: 'list',
      onSent: (list) => {
        this.listsSent[list]++;
        options.events.listSent(list);
        this.changed();
      },
      onFailed: (list, causes) => this.answerFailed(KEPT_TOPICS[list], causes),
    });
  }

  /** Connect and subscribe; resolves once subscribed (the retained statuses are then on their way). */
  async start(): Promise<void> {
    const { broker, log } = this.options;
    // Ops hear at once of a list the service could not send, not at the first gate that lags.
    for (const list of KEPT_LISTS) if (this.kept.held(list) > 0) this.sendable(list);
    this.checkExpiry();
    this.expiryTimer = setInterval(() => this.checkExpiry(), EXPIRY_CHECK_MS).unref();
    const client = mqtt.connect(broker.url, { clientId: this.options.clientId, clean: false, reconnectPeriod: 1_000, connectTimeout: 10_000, keepalive: 30, ...broker.tls });
    this.client = client;
    client.on('message', (topic, body) => this.receive(topic, body));
    client.on('error', (error) => log.warn({ broker: broker.shown, cause: describeBrokerError(error) }, 'broker error'));
    client.on('close', () => {
      if (this.connected) log.warn({ broker: broker.shown }, 'broker connection lost; reconnecting');
      this.connected = false;
      this.changed();
    });
    const filters = [topics.status('+'), topics.resync('+'), ...(this.options.countTaps ? [topics.taps('+')] : [])];
    await new Promise<void>((resolve) => {
      client.on('connect', (connack) => {
        this.connected = true;
        log.info({ broker: broker.shown, sessionPresent: connack.sessionPresent }, 'connected to the broker');
        this.changed();
        this.recheckFailedLag();
        // A kept session keeps the subscriptions (and queued resync requests); a new one subscribes and gets every retained status.
        if (connack.sessionPresent) return resolve();
        client.subscribe(filters, { qos: 1 }, (error, granted) => {
          if (error) log.error({ err: error.message }, 'subscribe failed');
          const refused = (granted ?? []).filter((grant) => grant.qos === 0x80).map((grant) => grant.topic);
          if (refused.length > 0) log.error({ refused }, "the broker's ACL refuses these subscriptions to this client: give it fleet-ops rights (citygate fleet acl)");
          resolve();
        });
      });
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.expiryTimer);
    this.answers.stop();
    this.listAnswers.stop();
    for (const timer of this.lagTimers.values()) clearTimeout(timer);
    await this.client?.endAsync().catch(() => undefined);
    this.client = undefined;
    this.snapshots.close();
    this.kept.close();
    this.registry.close();
  }

  view(): FleetView {
    const gates = [...this.gates.values()].sort((a, b) => (a.gate < b.gate ? -1 : 1));
    return {
      at: new Date().toISOString(),
      broker: { url: this.options.broker.shown, connected: this.connected },
      gates,
      issuers: issuerViews(this.snapshots.heldSeqs(), gates, this.snapshotsSent),
      ...this.kept.published(),
      listsSent: { ...this.listsSent },
      taps: this.taps.series(Date.now()),
    };
  }

  private receive(topic: string, body: Buffer): void {
    try {
      const statusOf = gateOfTopic(topic, 'status');
      if (statusOf !== undefined) return this.onStatus(statusOf, body);
      const resyncOf = gateOfTopic(topic, 'resync');
      if (resyncOf !== undefined) return this.onResync(resyncOf, body);
      const tapsOf = gateOfTopic(topic, 'taps');
      if (tapsOf !== undefined) return this.onTaps(tapsOf, body);
    } catch (error) {
      this.options.log.error({ topic, err: (error as Error).message }, 'message not handled');
    }
  }

  private onStatus(gate: string, body: Buffer): void {
    const seenAt = new Date().toISOString();
    if (body.length === 0) {
      // A retained status cleared by hand: the gate is no longer shown as online or offline.
      this.note(gate, undefined, seenAt);
      this.options.events.status(undefined);
      return;
    }
    const parsed = parseGateStatus(gate, body);
    if ('refused' in parsed) {
      this.options.log.warn({ gate, reason: parsed.refused }, 'gate status refused');
      this.options.events.status(parsed.refused);
      return;
    }
    const status = parsed.status;
    const before = this.gates.get(gate)?.status;
    this.note(gate, status, seenAt);
    this.options.events.status(undefined);
    if (!status.online || !before?.online) for (const key of this.answeredLag.keys()) if (key.startsWith(`${gate}\u0000`)) this.answeredLag.delete(key);
    if (status.online) this.checkLagLater(gate);
  }

  private note(gate: string, status: GateEntry['status'], seenAt: string): void {
    const known = this.gates.get(gate);
    this.gates.set(gate, { gate, site: status?.site ?? known?.registeredSite, registered: known?.registered ?? false, registeredSite: known?.registeredSite, status, seenAt });
    try {
      this.registry.noteStatus(gate, status, seenAt);
    } catch (error) {
      this.options.log.error({ gate, err: (error as Error).message }, 'registry not written; the retained status brings it back');
    }
    this.changed();
  }

  private checkLagLater(gate: string): void {
    clearTimeout(this.lagTimers.get(gate));
    this.lagTimers.set(
      gate,
      setTimeout(() => {
        this.lagTimers.delete(gate);
        this.checkLag(gate);
      }, this.options.lagGraceMs ?? DEFAULT_LAG_GRACE_MS),
    );
  }

  /** The gate's latest status is still below the fleet's seq after the grace: send the list, once per seq. */
  private checkLag(gate: string): void {
    const status = this.gates.get(gate)?.status;
    if (!status?.online) return;
    for (const [issuer, held] of this.snapshots.heldSeqs()) {
      const have = status.denyList[issuer] ?? 0;
      const key = `${gate}\u0000${issuer}`;
      if (have >= held || this.answeredLag.get(key) === held) continue;
      this.answeredLag.set(key, held);
      this.options.log.info({ gate, issuer, have, held }, 'gate behind on a deny list: sending the whole list');
      this.answers.ask(issuer, gate, 'status');
    }
    for (const list of KEPT_LISTS) this.checkListLag(gate, status, list);
  }

  private checkListLag(gate: string, status: GateStatus, list: KeptList): void {
    const have = status[STATUS_SEQ[list]];
    if (have === undefined) return;
    const held = this.kept.held(list);
    const key = `${gate}\u0000${KEPT_TOPICS[list]}`;
    if (have >= held || this.answeredLag.get(key) === held || !this.sendable(list)) return;
    this.answeredLag.set(key, held);
    this.options.log.info({ gate, list, have, held }, 'gate behind on the trust or revocation list: sending it again');
    this.listAnswers.ask(list, gate, 'status');
  }

  /**
   * A list sent because of gates' status did not go out: those gates are no
   * longer counted as answered, and are checked again once the service is
   * back on the broker. An idle gate publishes no new status that would bring
   * the check about, and a gate that asked sends its own request again.
   */
  private answerFailed(listKey: string, causes: ReadonlyMap<string, AnswerCause>): void {
    for (const [gate, cause] of causes) {
      if (cause !== 'status') continue;
      this.answeredLag.delete(`${gate}\u0000${listKey}`);
      this.lagAfterReconnect.add(gate);
    }
  }

  private recheckFailedLag(): void {
    for (const gate of this.lagAfterReconnect) if (this.gates.get(gate)?.status?.online) this.checkLagLater(gate);
    this.lagAfterReconnect.clear();
  }

  /** Whether the message kept for `list` can go out again; why not is logged once per seq. */
  private sendable(list: KeptList): boolean {
    const standing = this.kept.standing(list, Math.floor(Date.now() / 1000));
    if ('message' in standing) return true;
    if (this.unsendable.get(list) === standing.seq) return false;
    this.unsendable.set(list, standing.seq);
    const { log, dir } = this.options;
    if (standing.missing === 'expired') log.warn({ list, seq: standing.seq, exp: new Date(standing.exp * 1000).toISOString(), dir }, EXPIRED);
    else log.warn({ list, seq: standing.seq, dir }, NOT_KEPT[list]);
    return false;
  }

  /**
   * Ops hear a week ahead that the revocation list runs out, and when it has,
   * not only once a gate lags: gates keep the list they hold, but a new or
   * replaced gate can then get none until it is signed again.
   */
  private checkExpiry(): void {
    if (this.kept.held('revocations') === 0) return;
    const now = Math.floor(Date.now() / 1000);
    const standing = this.kept.standing('revocations', now);
    if (!('message' in standing)) {
      this.sendable('revocations');
      return;
    }
    const { seq, exp } = standing.message;
    if (exp === undefined || exp - now > EXPIRY_NOTICE_SEC || this.expiryNoticed === seq) return;
    this.expiryNoticed = seq;
    this.options.log.warn({ list: 'revocations', seq, exp: new Date(exp * 1000).toISOString(), dir: this.options.dir }, EXPIRES_SOON);
  }

  private onResync(gate: string, body: Buffer): void {
    let request;
    try {
      request = body.length <= 4096 ? resyncSchema.safeParse(JSON.parse(body.toString('utf8'))) : undefined;
    } catch {
      request = undefined;
    }
    if (!request?.success) {
      this.options.log.warn({ gate }, 'resync request refused: not {"issuer", "have"}');
      this.options.events.resyncRequest(undefined);
      return;
    }
    const { issuer, have } = request.data;
    this.options.events.resyncRequest(issuer);
    const held = this.snapshots.held(issuer);
    if (held === 0) {
      this.options.log.warn({ gate, issuer, have }, 'resync request for an issuer this directory holds no list of');
      return;
    }
    // A gate at or above the seq held has nothing to gain from the list (one above: a directory restored from an older backup).
    if (have >= held) return;
    this.answers.ask(issuer, gate, 'resync');
  }

  private onTaps(gate: string, body: Buffer): void {
    const site = this.gates.get(gate)?.site ?? NO_SITE;
    const fresh = this.taps.note(gate, site, body, Date.now());
    if (fresh === 0) return;
    this.options.events.taps(site, fresh);
    this.changed();
  }

  private async publish(topic: string, payload: Uint8Array, retain: boolean): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error('not connected to the broker');
    await client.publishAsync(topic, Buffer.from(payload), { qos: 1, retain });
  }

  private changed(): void {
    this.changes.emit('change');
  }
}
