import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../../../hal/clock.js';
import type { TrustStore } from '../credentials/trustList.js';
import type { ApplyResult, DenyListUpdate } from '../denylist/denyListUpdate.js';
import type { Alarm, Gate } from '../gate.js';
import type { Journal } from '../journal.js';
import type { Log } from '../log.js';
import type { ReplayGuard } from '../replayGuard.js';
import type { GateMode } from '../settings.js';
import { CommandHandler } from './commandHandler.js';
import { redactUrl } from './brokerUrl.js';
import { explainBrokerError, type BrokerProblem, type LinkTlsFacts } from './brokerProblem.js';
import { openDenyListUpdate } from './denyListMessage.js';
import { FleetMessageError, fleetTimeOf } from './fleetMessage.js';
import { openRevocationUpdate, type RevocationUpdate } from './revocationUpdate.js';
import { SiteSharing, type SiteAuthentication } from './siteSharing.js';
import { fallBackToMqtt311 } from './mqtt311Fallback.js';
import { subscribeWithin } from './subscribeWithin.js';
import { DEFAULT_UPLOADER, TapUploader, type UploaderOptions } from './tapUploader.js';
import { denyListIssuer, topics } from './topics.js';
import { openTrustUpdate, type TrustUpdate } from './trustUpdate.js';

/** The deny-list store as sync sees it. */
export interface DenyListSink {
  apply(update: DenyListUpdate): ApplyResult;
  seqs(): Record<string, number>;
}

/** The trust list in force, and how an update is kept (the app writes it to the trust file). */
export interface TrustHolder {
  current(): TrustStore;
  seq(): number;
  apply(update: TrustUpdate): void;
  reload(): void;
}

/** The bank-card revocation list in force (the app keeps it in the state directory). */
export interface RevocationHolder {
  seq(): number;
  /** In force at once, then kept; throws when it could not be kept (it stays in force until a restart). */
  apply(update: RevocationUpdate): void;
}

export interface FleetLinkParts {
  gate: Gate;
  journal: Journal;
  replay: ReplayGuard;
  denyList: DenyListSink;
  trust: TrustHolder;
  /** Optional until every harness that builds a link passes one; the daemon always does. Without it the topic is not subscribed. */
  revocations?: RevocationHolder;
  clock: Clock;
  gateId: string;
  site: string;
  skewSec: number;
  version: string;
  log: Log;
  /** A command changed the mode: the app keeps it for the next start. */
  onModeCommand(mode: GateMode): void;
  /** Site messages signed and checked (a gate with a device certificate and the fleet's device CA). */
  siteAuth?: SiteAuthentication;
}

export interface FleetLinkOptions {
  url: string;
  /** TLS client certificate and CA in the field (PEM); username/password are not used. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** Where those PEM files came from (`sync.tls`), named when the broker refuses them. */
  tlsFiles?: { ca?: string; cert?: string; key?: string };
  uploader?: UploaderOptions;
  retentionDays?: number;
  /** Slowest reconnect backoff. */
  maxBackoffMs?: number;
  /** How long a SUBACK may take before the connection is dropped and made again; default 10 s. */
  subackTimeoutMs?: number;
}

const FIRST_BACKOFF_MS = 500;
/** MQTT 5 session expiry: deny lists and commands published while the gate was away reach it within this; after it, the retained lists do. */
const SESSION_EXPIRY_S = 7 * 86_400;
const STATUS_PERIOD_MS = 60_000;
const ALARM_MEMORY_MS = 5 * 60_000;

/**
 * The gate's side of DESIGN.md §4: taps up, acks, deny lists, trust list,
 * commands and site ticket sharing down, status retained with a will. Every
 * message from the broker is validated here and refused with a log line;
 * nothing from the network can throw into the gate.
 */
export class FleetLink {
  private client: MqttClient | undefined;
  private readonly uploader: TapUploader;
  private readonly commands: CommandHandler;
  private readonly site: SiteSharing;
  private readonly timers: NodeJS.Timeout[] = [];
  private backoffMs = FIRST_BACKOFF_MS;
  /** Between a connect and the close that ends it: the field log says when the link went, not only when it came back. */
  private linkUp = false;
  private statusDebounce: NodeJS.Timeout | undefined;
  private lastStatus = '';
  private lastSignificant = '';
  private readonly alarms: { type: string; detail: string; at: string }[] = [];
  private lastTapAt: string | null = null;
  /** The first error of the connection attempt under way: one log line per attempt, when it closes. */
  private attemptError: unknown;
  /** The broker holds this gate's subscriptions: a SUBACK came since the last connect that found no kept session (or since the start). */
  private subscribed = false;
  private readonly tlsFacts: LinkTlsFacts;

  constructor(
    private readonly parts: FleetLinkParts,
    private readonly options: FleetLinkOptions,
  ) {
    const { gate, journal, replay, gateId, log } = parts;
    const now = () => parts.clock.now();
    this.uploader = new TapUploader(journal, gateId, (payload) => this.publish(topics.taps(gateId), payload, false), log, options.uploader ?? DEFAULT_UPLOADER);
    this.commands = new CommandHandler(gateId, journal, () => parts.trust.current(), this.commandTarget(), now, parts.skewSec, log);
    this.site = new SiteSharing(gateId, journal, replay, now, log, parts.siteAuth);
    // The journal's newest tap, so the status after a restart does not claim there was none.
    this.lastTapAt = journal.lastTapAt() ?? null;
    this.tlsFacts = { files: options.tlsFiles ?? {}, certificate: validityOf(options.tls?.cert) };
    gate.onOutcome((outcome) => {
      if (outcome.type !== 'tap') return;
      this.lastTapAt = outcome.tap.at;
      this.uploader.nudge();
    });
    gate.onCredentialUsed((used) => void this.publish(topics.siteUsed(parts.site), this.site.outgoing(used), false));
    gate.onAlarm((alarm) => this.noteAlarm(alarm));
    gate.onEmergency(() => this.statusChanged());
    gate.onHealthChange(() => this.statusChanged());
  }

  start(): void {
    const { gateId, version } = this.parts;
    const options: IClientOptions = {
      clientId: `citygate-${gateId}`,
      // A persistent session: deny lists and commands published while the gate was away still reach it.
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: SESSION_EXPIRY_S },
      // The link subscribes itself, only when the broker did not keep the session (onConnect).
      resubscribe: false,
      reconnectPeriod: FIRST_BACKOFF_MS,
      connectTimeout: 10_000,
      keepalive: 30,
      will: { topic: topics.status(gateId), payload: Buffer.from(JSON.stringify({ gate: gateId, online: false, version })), qos: 1, retain: true },
      ...(this.options.tls ?? {}),
    };
    this.timers.push(setInterval(() => this.uploader.tick(), 1_000));
    this.timers.push(setInterval(() => this.publishStatus(false), STATUS_PERIOD_MS));
    this.timers.push(setInterval(() => this.prune(), 3_600_000));
    this.prune();
    let client: MqttClient;
    try {
      client = mqtt.connect(this.options.url, options);
    } catch (error) {
      // The TLS files are read into a context here (a key that is not the certificate's throws): no attempt can succeed.
      const problem = this.problemOf(error);
      this.parts.log.error({ url: redactUrl(this.options.url), code: problem.code }, `broker link not started, the gate serves offline: ${problem.text}`);
      return;
    }
    this.client = client;
    client.on('connect', (connack) => void this.onConnect(connack));
    client.on('close', () => this.onClose());
    // Node reports one TLS failure to mqtt.js more than once: the attempt's first error is logged when it closes.
    client.on('error', (error) => (this.attemptError ??= error));
    client.on('error', (error) => this.speakMqtt311IfRefused(client, error));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  /** Offline status published and the connection closed; the journal keeps whatever is still undelivered. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    if (this.statusDebounce) clearTimeout(this.statusDebounce);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected) {
      const offline = JSON.stringify({ gate: this.parts.gateId, online: false, version: this.parts.version });
      // At most 2 s for the broker's ack; the timer is cleared so that it does not hold the process after the stop.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([client.publishAsync(topics.status(this.parts.gateId), offline, { qos: 1, retain: true }).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 2_000)))]);
      clearTimeout(timer);
    }
    await client.endAsync(true).catch(() => undefined);
  }

  connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** The status document of docs/sync.md. */
  status(): Record<string, unknown> {
    const { gate, journal, clock, gateId, site, version } = this.parts;
    const nowMs = clock.now();
    while (this.alarms.length > 0 && nowMs - Date.parse(this.alarms[0]!.at) > ALARM_MEMORY_MS) this.alarms.shift();
    return {
      gate: gateId,
      online: true,
      version,
      mode: gate.mode(),
      site,
      denyList: this.parts.denyList.seqs(),
      trustListSeq: this.parts.trust.seq(),
      revocationSeq: this.parts.revocations?.seq() ?? 0,
      backlog: journal.backlog(),
      lastTapAt: this.lastTapAt,
      clockTrusted: clock.trusted(),
      journal: gate.journalWorking() ? 'ok' : 'failing',
      alarms: [...this.alarms],
      hal: gate.deviceHealth(),
      rules: gate.modeFigures(),
      emergency: gate.emergency(),
      emergencyPassages: gate.emergencyPassages(),
      at: new Date(nowMs).toISOString(),
    };
  }

  /** Something the fleet should see soon changed (mode, deny list, health, alarm). */
  statusChanged(): void {
    if (this.statusDebounce) return;
    this.statusDebounce = setTimeout(() => {
      this.statusDebounce = undefined;
      this.publishStatus(true);
    }, 200);
  }

  private publishStatus(significantOnly: boolean): void {
    // The last trusted time moves on with every status while the clock is trusted, not only when a fleet message comes.
    fleetTimeOf(this.parts.clock, this.parts.journal);
    if (!this.connected()) return;
    const status = this.status();
    const { at: _at, backlog: _backlog, lastTapAt: _last, ...significant } = status;
    const significantText = JSON.stringify(significant);
    const fullText = JSON.stringify({ ...status, at: undefined });
    if (significantOnly ? significantText === this.lastSignificant : fullText === this.lastStatus) return;
    this.lastSignificant = significantText;
    this.lastStatus = fullText;
    void this.publish(topics.status(this.parts.gateId), JSON.stringify(status), true);
  }

  private async onConnect(connack: IConnackPacket): Promise<void> {
    const { gateId, site, log } = this.parts;
    this.backoffMs = FIRST_BACKOFF_MS;
    this.linkUp = true;
    if (this.client) this.client.options.reconnectPeriod = FIRST_BACKOFF_MS;
    log.info({ url: redactUrl(this.options.url) }, 'connected to the broker');
    // A kept session keeps the subscriptions: subscribing again would bring every retained deny list again.
    if (!connack.sessionPresent) this.subscribed = false;
    const client = this.client;
    if (client && !this.subscribed) {
      const waitMs = this.options.subackTimeoutMs ?? 10_000;
      try {
        const revocations = this.parts.revocations ? [topics.revocations] : [];
        const outcome = await subscribeWithin(client, [topics.tapsAck(gateId), topics.cmd(gateId), topics.denyListAll, topics.trust, ...revocations, topics.siteUsed(site)], waitMs);
        if (outcome === 'timeout') {
          log.warn({ waitedMs: waitMs }, 'no SUBACK from the broker: connecting again');
          client.stream.destroy();
          return;
        }
        this.subscribed = true;
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'subscribe failed; retrying on the next connection');
      }
    }
    this.lastSignificant = '';
    this.lastStatus = '';
    this.publishStatus(true);
    this.uploader.connected();
  }

  private onClose(): void {
    const wasUp = this.linkUp;
    const error = this.attemptError;
    this.attemptError = undefined;
    this.linkUp = false;
    this.uploader.disconnected();
    // No client: a clean stop, not a lost link.
    if (!this.client) return;
    const problem = error === undefined ? undefined : this.problemOf(error);
    if (wasUp) this.parts.log.warn({ backlog: this.parts.journal.backlog(), ...(problem ? { cause: problem.text, code: problem.code } : {}) }, 'broker connection lost');
    else this.parts.log.warn({ url: redactUrl(this.options.url), code: problem?.code ?? 'closed' }, `broker connection failed: ${problem?.text ?? 'the broker closed the connection before MQTT was up'}`);
    // Exponential backoff with jitter, so a fleet does not reconnect in step after a broker restart.
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    this.client.options.reconnectPeriod = Math.round(this.backoffMs * (0.5 + Math.random() / 2));
  }

  /** A broker without MQTT 5 refuses the first CONNECT: the next attempts are MQTT 3.1.1 (clean session off, no expiry). */
  private speakMqtt311IfRefused(client: MqttClient, error: Error): void {
    if (fallBackToMqtt311(client, error)) this.parts.log.info({ url: redactUrl(this.options.url) }, 'the broker does not speak MQTT 5: using MQTT 3.1.1');
  }

  private problemOf(error: unknown): BrokerProblem {
    return explainBrokerError(error, this.options.url, this.tlsFacts, this.parts.clock.now());
  }

  private onMessage(topic: string, payload: Buffer): void {
    const { gateId, site } = this.parts;
    try {
      if (topic === topics.tapsAck(gateId)) this.uploader.onAck(payload);
      else if (topic === topics.cmd(gateId)) this.onCommand(payload);
      else if (topic === topics.trust) this.onTrust(payload);
      else if (topic === topics.revocations && this.parts.revocations) this.onRevocations(this.parts.revocations, payload);
      else if (topic === topics.siteUsed(site)) this.site.receive(payload);
      else {
        const issuer = denyListIssuer(topic);
        if (issuer !== undefined) this.onDenyList(issuer, payload);
      }
    } catch (error) {
      this.parts.log.error({ topic, err: (error as Error).message }, 'message from the broker not handled');
    }
  }

  private onCommand(payload: Buffer): void {
    const result = this.commands.handle(payload, fleetTimeOf(this.parts.clock, this.parts.journal));
    void this.publish(topics.cmdResult(this.parts.gateId), JSON.stringify(result), false);
  }

  private onDenyList(issuer: string, payload: Buffer): void {
    const { log, clock } = this.parts;
    let update: DenyListUpdate;
    try {
      update = openDenyListUpdate(payload, issuer, this.parts.trust.current(), fleetTimeOf(clock, this.parts.journal));
    } catch (error) {
      log.warn({ issuer, reason: error instanceof FleetMessageError ? error.reason : 'malformed', detail: (error as Error).message }, 'deny-list update refused');
      return;
    }
    let result: ApplyResult;
    try {
      result = this.parts.denyList.apply(update);
    } catch (error) {
      log.error({ issuer, seq: update.seq, err: (error as Error).message }, 'deny-list update not applied');
      return;
    }
    log.info({ issuer, seq: update.seq, base: update.base, result }, 'deny-list update');
    if (result.status === 'gap') this.requestResync(issuer, result.held, update);
    if (result.status === 'applied') this.statusChanged();
  }

  private requestResync(issuer: string, have: number, saw: { seq: number; base: number } | undefined): void {
    const request = { gate: this.parts.gateId, issuer, have, ...(saw ? { saw: { seq: saw.seq, base: saw.base } } : {}) };
    void this.publish(topics.resync(this.parts.gateId), JSON.stringify(request), false);
  }

  private onTrust(payload: Buffer): void {
    const { log, clock, trust } = this.parts;
    let update: TrustUpdate;
    try {
      update = openTrustUpdate(payload, trust.current(), fleetTimeOf(clock, this.parts.journal));
    } catch (error) {
      log.warn({ reason: error instanceof FleetMessageError ? error.reason : 'malformed', detail: (error as Error).message }, 'trust-list update refused');
      return;
    }
    if (update.seq <= trust.seq()) {
      if (update.seq < trust.seq()) log.warn({ seq: update.seq, held: trust.seq() }, 'trust-list update ignored: older than the one in force');
      return;
    }
    trust.apply(update);
    log.info({ seq: update.seq, issuers: update.trustList.issuers.length }, 'trust list updated');
    this.statusChanged();
  }

  private onRevocations(held: RevocationHolder, payload: Buffer): void {
    const { log, clock, trust, skewSec } = this.parts;
    let update: RevocationUpdate;
    try {
      update = openRevocationUpdate(payload, trust.current(), fleetTimeOf(clock, this.parts.journal), skewSec);
    } catch (error) {
      log.warn({ reason: error instanceof FleetMessageError ? error.reason : 'malformed', detail: (error as Error).message }, 'revocation-list update refused');
      return;
    }
    if (update.seq <= held.seq()) {
      // Equal is the retained list again, which every connect brings.
      if (update.seq === held.seq()) log.info({ seq: update.seq }, 'revocation-list update ignored: already in force');
      else log.warn({ seq: update.seq, held: held.seq() }, 'revocation-list update ignored: older than the one in force');
      return;
    }
    try {
      held.apply(update);
      log.info({ seq: update.seq, entries: update.list.entries.length, exp: update.exp }, 'revocation list updated');
    } catch (error) {
      log.error({ seq: update.seq, err: (error as Error).message }, 'revocation list in force but not saved: the broker gives it again after a restart');
    }
    this.statusChanged();
  }

  private commandTarget() {
    return {
      open: () => this.parts.gate.remoteOpen(),
      setMode: (mode: Parameters<Gate['setMode']>[0]) => {
        this.parts.gate.setMode(mode);
        this.parts.onModeCommand(mode);
        this.statusChanged();
      },
      resync: (issuer: string | undefined) => {
        const seqs = this.parts.denyList.seqs();
        const issuers = issuer !== undefined ? [issuer] : Object.keys(seqs);
        for (const id of issuers) this.requestResync(id, seqs[id] ?? 0, undefined);
      },
      reloadTrust: () => {
        this.parts.trust.reload();
        this.statusChanged();
      },
      emergency: (active: boolean) => this.parts.gate.commandEmergency(active),
    };
  }

  private noteAlarm(alarm: Alarm): void {
    const detail = alarm.type === 'tailgate' ? '' : alarm.error;
    this.alarms.push({ type: alarm.type, detail, at: new Date(this.parts.clock.now()).toISOString() });
    if (this.alarms.length > 20) this.alarms.shift();
    this.statusChanged();
  }

  private prune(): void {
    const days = this.options.retentionDays ?? 30;
    try {
      const removed = this.parts.journal.pruneDelivered(new Date(this.parts.clock.now() - days * 86_400_000).toISOString());
      if (removed > 0) this.parts.log.info({ removed, days }, 'delivered taps pruned');
    } catch (error) {
      this.parts.log.warn({ err: (error as Error).message }, 'pruning delivered taps failed');
    }
  }

  private async publish(topic: string, payload: string, retain: boolean): Promise<void> {
    const client = this.client;
    if (!client?.connected) return;
    try {
      await client.publishAsync(topic, payload, { qos: 1, retain });
    } catch (error) {
      this.parts.log.warn({ topic, err: (error as Error).message }, 'publish failed');
    }
  }
}

/** The validity of this gate's client certificate (PEM), for the explanations; none when there is none or it does not parse. */
function validityOf(pem: string | undefined): LinkTlsFacts['certificate'] {
  if (pem === undefined) return undefined;
  try {
    const certificate = new X509Certificate(pem);
    return { validFrom: new Date(certificate.validFrom), validTo: new Date(certificate.validTo) };
  } catch {
    return undefined;
  }
}
