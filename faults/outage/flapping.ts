import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Mosquitto } from '../../sim/mosquittoProcess.js';
import { seededRandom } from '../../sim/seededRandom.js';
import type { UploaderOptions } from '../../src/core/sync/tapUploader.js';
import { SERVICE_START } from './daySchedule.js';
import { checkCollector, checkDelivery, type DeliveryCheck } from './deliveryCheck.js';
import { FleetOps } from './fleetOps.js';
import { Lane } from './lane.js';
import { startOutageGate } from './outageGate.js';
import { City } from './passengers.js';
import type { RecordingLog } from './recordingLog.js';
import { startReferenceCollector } from './referenceCollector.js';
import { TcpRelay, type Outage, type RelayCounts } from './tcpRelay.js';
import { Teardown } from '../teardown.js';
import { sleep, waitUntil } from '../waitUntil.js';

export interface FlappingOptions {
  flaps: number;
  seed?: number;
  /** Real time between passengers while the network flaps. */
  tapEveryMs?: number;
  uploader?: Partial<UploaderOptions>;
  maxBackoffMs?: number;
}

export interface FlappingFigures {
  flaps: number;
  /** Flaps that cut the gate (each while it was connected), the collector as well, the collector alone for longer than the ack timeout. */
  gateCuts: number;
  collectorCuts: number;
  collectorLongOutages: number;
  /** From the gate's log: connections after the first, and sends again from the delivered mark. */
  reconnects: number;
  resendsAfterReconnect: number;
  resendsOnAckTimeout: number;
  taps: number;
  byReason: Record<string, number>;
  wrong: string[];
  /** Taps the collector received again and kept once. */
  duplicates: number;
  lost: number;
  problems: string[];
  delivery: DeliveryCheck;
  relays: { gate: RelayCounts; collector: RelayCounts };
  /** Network back for good to every tap delivered. */
  drainMs: number;
  wallMs: number;
}

const GATE = 'FLAP-1';

/**
 * Network flapping every few seconds while passengers keep coming: the gate
 * and the collector each reach the broker through a relay that cuts every
 * connection, then refuses or swallows new ones for up to 1.5 s. Once, the
 * collector stays away until the gate has sent again on its ack timeout, so
 * that it must receive taps twice and keep them once. At the end the network
 * is restored and every tap must be in the collector's store exactly once.
 */
export async function runFlapping(options: FlappingOptions): Promise<FlappingFigures> {
  const started = performance.now();
  const random = seededRandom(options.seed ?? 11);
  const teardown = new Teardown();
  const dir = mkdtempSync(join(tmpdir(), 'citygate-outage-flap-'));
  teardown.add('remove the temp dir', () => rmSync(dir, { recursive: true, force: true }));
  try {
    const city = new City();
    const fleet = new FleetOps();
    const broker = await Mosquitto.start();
    teardown.add('stop the broker', () => broker.stop());
    const gateNet = await TcpRelay.start(broker.port);
    teardown.add('close the relay', () => gateNet.close());
    const collectorNet = await TcpRelay.start(broker.port);
    teardown.add('close the relay', () => collectorNet.close());
    const reference = await startReferenceCollector(collectorNet.url, dir, 'outage-flap-collector');
    teardown.add('stop the collector', () => reference.collector.stop());
    const gate = await startOutageGate({
      gateId: GATE,
      site: 'cq-metro-jiefangbei',
      url: gateNet.url,
      dir: join(dir, GATE),
      trust: city.trustList([fleet.jwk()]),
      heldDenyLists: [{ issuer: city.cityCode.id, bytes: fleet.denyUpdate(city.denySnapshot(Math.floor(SERVICE_START / 1000) - 3_600)) }],
      startWallMs: SERVICE_START,
      uploader: options.uploader ?? {},
      ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
    });
    teardown.add('stop the gate', () => gate.stop());
    await waitUntil(() => gate.connects() === 1, 'the gate connected');

    const lane = new Lane(gate, city, random);
    let presenting = true;
    const traffic = (async () => {
      while (presenting) {
        await lane.presentAfter(500 + Math.floor(random() * 2_500));
        await sleep(options.tapEveryMs ?? 10);
      }
    })();
    teardown.add('stop the traffic', async () => {
      presenting = false;
      await traffic;
    });

    const figures = { gateCuts: 0, collectorCuts: 0, collectorLongOutages: 0 };
    const longAt = Math.ceil(options.flaps / 2);
    let lastCut = performance.now();
    let connectsAtCut = 0;
    for (let flap = 1; flap <= options.flaps; flap++) {
      const interval = 2_000 + random() * 2_000;
      await sleep(Math.max(0, interval - (performance.now() - lastCut)));
      if (flap === longAt) {
        await collectorAwayUntilResend(collectorNet, gate.log);
        figures.collectorLongOutages++;
        lastCut = performance.now();
        continue;
      }
      // Every cut of the gate cuts a live session: a flap that found it still reconnecting would prove nothing.
      // mqtt.js reports connected at the CONNACK but runs the link's connect handler only once it has resent its unacknowledged publishes.
      await waitUntil(() => gate.connects() > connectsAtCut && gate.link.connected(), `the gate reconnected before flap ${flap}`, 60_000);
      connectsAtCut = gate.connects();
      const downMs = 300 + random() * 1_200;
      const how: Outage = random() < 0.5 ? 'refuse' : 'blackhole';
      const alsoCollector = random() < 1 / 3 && collectorNet.liveConnections() > 0;
      lastCut = performance.now();
      const outages = [gateNet.outage(downMs, how)];
      if (alsoCollector) outages.push(collectorNet.outage(downMs * (0.5 + random()), how));
      await Promise.all(outages);
      figures.gateCuts++;
      if (alsoCollector) figures.collectorCuts++;
    }

    await waitUntil(() => gate.connects() > connectsAtCut && gate.link.connected(), 'the gate reconnected after the last flap', 60_000);
    presenting = false;
    await traffic;
    const calm = performance.now();
    await waitUntil(() => gate.journal.deliveredSeq() === gate.journal.lastTapSeq(), 'every tap delivered after the flapping', 120_000);
    const drainMs = performance.now() - calm;

    const delivery = checkDelivery(gate.journal, GATE, reference.db);
    const stats = reference.collector.stats();
    const problems = [...delivery.problems, ...checkCollector(stats, { [GATE]: delivery.lastSeq })];
    const reconnects = gate.connects() - 1;
    if (reconnects < figures.gateCuts) problems.push(`${figures.gateCuts} cuts of a connected gate but ${reconnects} reconnects in its log`);
    return {
      flaps: options.flaps,
      ...figures,
      reconnects,
      resendsAfterReconnect: gate.log.count('sending taps again from the delivered mark', { why: 'connected' }),
      resendsOnAckTimeout: gate.log.count('sending taps again from the delivered mark', { why: 'ack timeout' }),
      taps: lane.figures.taps,
      byReason: lane.figures.byReason,
      wrong: lane.figures.wrong,
      duplicates: stats.duplicates,
      lost: delivery.lost,
      problems,
      delivery,
      relays: { gate: { ...gateNet.counts }, collector: { ...collectorNet.counts } },
      drainMs: Math.round(drainMs),
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await teardown.run();
  }
}

/**
 * The collector's link down (swallowing its reconnects) until the gate has
 * given up waiting for an ack and sent its unacknowledged taps again: the
 * broker queues both copies for the collector's session.
 */
async function collectorAwayUntilResend(collectorNet: TcpRelay, log: RecordingLog): Promise<void> {
  const resends = () => log.count('sending taps again from the delivered mark', { why: 'ack timeout' });
  const before = resends();
  await waitUntil(() => collectorNet.liveConnections() > 0, 'the collector connected before its long outage', 60_000);
  collectorNet.cut('blackhole');
  await waitUntil(() => resends() > before, 'the gate sent again on its ack timeout', 60_000);
  collectorNet.restore();
}
