import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Mosquitto } from '../../sim/mosquittoProcess.js';
import { seededRandom } from '../../sim/seededRandom.js';
import { topics } from '../../src/core/sync/topics.js';
import type { UploaderOptions } from '../../src/core/sync/tapUploader.js';
import { SERVICE_START } from './daySchedule.js';
import { checkCollector, checkDelivery, type DeliveryCheck } from './deliveryCheck.js';
import { firstMessage } from './firstMessage.js';
import { FleetOps } from './fleetOps.js';
import { Lane } from './lane.js';
import { startOutageGate, type OutageGate } from './outageGate.js';
import { City } from './passengers.js';
import { startReferenceCollector } from './referenceCollector.js';
import { retainedStatus } from './retainedStatus.js';
import { TcpRelay } from './tcpRelay.js';
import { Teardown } from '../teardown.js';
import { sleep, waitUntil } from '../waitUntil.js';

export interface BrokerRestartOptions {
  persistence: boolean;
  /** Taps committed at once before the upload starts, so that the kill lands mid-upload. */
  burst?: number;
  /** Taps committed while the broker is down. */
  offlineTaps?: number;
  seed?: number;
  /** Small batches and window by default: the upload of the burst takes many round trips. */
  uploader?: Partial<UploaderOptions>;
  maxBackoffMs?: number;
}

export interface BrokerRestartFigures {
  persistence: boolean;
  taps: number;
  byReason: Record<string, number>;
  wrong: string[];
  /** Taps committed and not yet acknowledged when the broker died: above 0 when the kill was mid-upload. */
  backlogAtKill: number;
  /** The collector's ack that triggered the kill, and the gate's delivered mark once the broker was dead (that ack may not have reached it). */
  ackedBeforeKill: number;
  deliveredAtKill: number;
  /** Gate connections after the restart, from its log. */
  reconnects: number;
  /** Whether the collector found its session on each connection, from its log: false after a broker without persistence. */
  collectorSessions: boolean[];
  /** The deny-list update signed after the restart: published while the gate was away (persistence) or once it was back (none). */
  denyUpdate: { seq: number; publishedWhileGateAway: boolean; applied: boolean; holderRefusedWith: string | null };
  /** The gate's retained status on the restarted broker: online, newer than the restart, with the new deny-list seq. */
  statusBack: boolean;
  /** From the gate's log: sends again from the delivered mark after reconnecting, and after an ack timeout. */
  resendsAfterReconnect: number;
  resendsOnAckTimeout: number;
  duplicates: number;
  lost: number;
  problems: string[];
  delivery: DeliveryCheck;
  /** Broker back to every tap delivered. */
  drainMs: number;
  wallMs: number;
}

/** Without persistence, mosquitto (autosave_interval 1) has saved the sessions within this long. */
const AUTOSAVE_MARGIN_MS = 2_500;
const LISTED_HOLDER = 'acct-revoked-after-restart';

/**
 * The broker killed (SIGKILL) mid-upload and started again on the same port,
 * with its persistence database or without any memory. Uploads must resume
 * and deliver everything; the gate must still get what is addressed to it: a
 * deny-list update signed after the restart must reach it and refuse the
 * holder it lists, and its retained status must be back on the broker.
 */
export async function runBrokerRestart(options: BrokerRestartOptions): Promise<BrokerRestartFigures> {
  const started = performance.now();
  const random = seededRandom(options.seed ?? (options.persistence ? 21 : 22));
  const gateId = options.persistence ? 'RESTART-P' : 'RESTART-N';
  const teardown = new Teardown();
  const dir = mkdtempSync(join(tmpdir(), 'citygate-outage-restart-'));
  teardown.add('remove the temp dir', () => rmSync(dir, { recursive: true, force: true }));
  try {
    const city = new City();
    const fleet = new FleetOps();
    const broker = await Mosquitto.start({ persistence: options.persistence });
    teardown.add('stop the broker', () => broker.stop());
    // The gate's network: held down across the restart when the update must wait in the gate's session.
    const gateNet = await TcpRelay.start(broker.port);
    teardown.add('close the relay', () => gateNet.close());
    const reference = await startReferenceCollector(broker.url, dir, `outage-restart-collector-${gateId}`);
    teardown.add('stop the collector', () => reference.collector.stop());
    const gate = await startOutageGate({
      gateId,
      site: 'cq-metro-jiefangbei',
      url: gateNet.url,
      dir: join(dir, gateId),
      trust: city.trustList([fleet.jwk()]),
      startWallMs: SERVICE_START,
      uploader: { batchSize: 100, window: 2, ackTimeoutMs: 3_000, ...options.uploader },
      ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
    });
    teardown.add('stop the gate', () => gate.stop());
    await waitUntil(async () => (await retainedStatus(broker.url, gateId))?.online === true, 'the gate connected and subscribed');
    const snapshot = city.denySnapshot(Math.floor(SERVICE_START / 1000) - 3_600);
    await fleet.publishDenyUpdate(broker.url, snapshot);
    await waitUntil(() => gate.denyList.seq(snapshot.issuer) === snapshot.seq, 'the deny list applied');
    const problems: string[] = [];
    const before = await presentListedHolder(gate, city);
    if (before !== 'ok') problems.push(`${LISTED_HOLDER} refused (${before}) before being listed`);
    // Sessions and subscriptions must be in the broker's database before it dies.
    if (options.persistence) await sleep(AUTOSAVE_MARGIN_MS);

    const lane = new Lane(gate, city, random);
    // SIGKILL the moment the collector acknowledges a first tap of the burst: the gate has more in flight and more in its journal.
    const beforeBurst = gate.journal.lastTapSeq();
    const firstAck = await firstMessage(broker.url, topics.tapsAck(gateId), (payload) => upToOf(payload) > beforeBurst);
    for (let i = 0; i < (options.burst ?? 3_000); i++) await lane.presentAfter(200);
    const ackedBeforeKill = upToOf(await firstAck.payload);
    await broker.kill();
    await firstAck.close();
    const deliveredAtKill = gate.journal.deliveredSeq();
    const backlogAtKill = gate.journal.lastTapSeq() - deliveredAtKill;
    if (options.persistence) gateNet.cut('refuse');
    for (let i = 0; i < (options.offlineTaps ?? 300); i++) {
      await lane.presentAfter(2_000);
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }

    const connectsBefore = gate.connects();
    const restartedAtWall = gate.board.clock.now();
    const back = performance.now();
    await broker.restart();
    const update = { issuer: snapshot.issuer, seq: snapshot.seq + 1, base: snapshot.seq, add: [LISTED_HOLDER], issuedAt: Math.floor(restartedAtWall / 1000) };
    let publishedWhileGateAway = false;
    if (options.persistence) {
      // The gate is still cut off: the update can only reach it through its session on the broker.
      publishedWhileGateAway = !gate.link.connected();
      await fleet.publishDenyUpdate(broker.url, update);
      gateNet.restore();
    } else {
      // A broker without memory has no subscription of the gate: the update can only reach it once it has subscribed again.
      await waitUntil(() => gate.connects() > connectsBefore, 'the gate reconnected', 60_000);
      await waitUntil(async () => (await retainedStatus(broker.url, gateId))?.online === true, 'the gate online on the new broker', 60_000);
      await fleet.publishDenyUpdate(broker.url, update);
    }
    const applied = await waitUntil(() => gate.denyList.seq(update.issuer) === update.seq, 'the deny-list update signed after the restart applied', 30_000).then(
      () => true,
      () => false,
    );
    const after = await presentListedHolder(gate, city);
    if (after !== 'deny-listed') problems.push(`${LISTED_HOLDER} decided ${after} after the update, expected deny-listed`);
    for (let i = 0; i < 200; i++) {
      await lane.presentAfter(2_000);
      await sleep(2);
    }
    const statusBack = await waitUntil(async () => {
      const status = await retainedStatus(broker.url, gateId);
      return status?.online === true && Date.parse(String(status.at)) >= restartedAtWall && (status.denyList as Record<string, number> | undefined)?.[update.issuer] === update.seq;
    }, 'the gate\'s retained status back on the broker, with the new deny-list seq', 30_000).then(
      () => true,
      () => false,
    );
    await waitUntil(() => gate.journal.deliveredSeq() === gate.journal.lastTapSeq(), 'every tap delivered after the restart', 120_000);
    const drainMs = performance.now() - back;

    const delivery = checkDelivery(gate.journal, gateId, reference.db);
    const stats = reference.collector.stats();
    problems.push(...delivery.problems, ...checkCollector(stats, { [gateId]: delivery.lastSeq }));
    if (!applied) problems.push('the deny-list update signed after the restart never reached the gate');
    if (!statusBack) problems.push('no retained online status of the gate on the restarted broker');
    if (backlogAtKill === 0) problems.push('the broker died with nothing left to upload: not mid-upload');
    return {
      persistence: options.persistence,
      taps: gate.journal.lastTapSeq(),
      byReason: lane.figures.byReason,
      wrong: lane.figures.wrong,
      backlogAtKill,
      ackedBeforeKill,
      deliveredAtKill,
      reconnects: gate.connects() - connectsBefore,
      collectorSessions: reference.log.lines.filter((line) => line.message === 'collecting').map((line) => line.fields.sessionPresent === true),
      denyUpdate: { seq: update.seq, publishedWhileGateAway, applied, holderRefusedWith: after === 'ok' ? null : after },
      statusBack,
      resendsAfterReconnect: gate.log.count('sending taps again from the delivered mark', { why: 'connected' }),
      resendsOnAckTimeout: gate.log.count('sending taps again from the delivered mark', { why: 'ack timeout' }),
      duplicates: stats.duplicates,
      lost: delivery.lost,
      problems,
      delivery,
      drainMs: Math.round(drainMs),
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await teardown.run();
  }
}

/** The holder fleet ops list after the restart shows a fresh city code; the journaled reason. */
async function presentListedHolder(gate: OutageGate, city: City): Promise<string> {
  gate.board.clock.advance(60_000);
  const outcome = await gate.gate.presentCode(city.cityCode.issuerCode({ sub: LISTED_HOLDER, iat: Math.floor(gate.board.clock.now() / 1000) }));
  if (outcome.type !== 'tap') return outcome.type;
  if (outcome.tap.result === 'accepted') gate.board.passage.pass();
  return outcome.tap.reason;
}

/** The seq of a collector's ack `{"upTo": seq}`. */
function upToOf(payload: Buffer): number {
  return (JSON.parse(payload.toString('utf8')) as { upTo: number }).upTo;
}
