import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Mosquitto } from '../../sim/mosquittoProcess.js';
import { seededRandom } from '../../sim/seededRandom.js';
import type { UploaderOptions } from '../../src/core/sync/tapUploader.js';
import { topics } from '../../src/core/sync/topics.js';
import { serviceDay, SERVICE_START } from './daySchedule.js';
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
import { waitUntil, within } from '../waitUntil.js';

export interface DayOfflineOptions {
  /** Taps of the whole day, over the two gates. */
  taps: number;
  seed?: number;
  /** Share of the day's taps presented and delivered before the broker is killed. */
  connectedShare?: number;
  maxBackoffMs?: number;
  uploader?: Partial<UploaderOptions>;
  /** DAY-1's uplink (a mobile link), slow enough that its first window of batches takes seconds. */
  slowLinkBytesPerSec?: number;
}

export interface DayGateFigures extends DeliveryCheck {
  /** Taps delivered before the outage, and left in the journal when the broker came back. */
  deliveredBeforeOutage: number;
  backlogAtReturn: number;
  /** Connections to the broker during the outage: must be 0. */
  connectsWhileDown: number;
  /** From the broker back to this gate connected, and from there to its delivered mark at its last tap. */
  reconnectMs: number;
  drainMs: number;
}

export interface DayOfflineFigures {
  taps: number;
  day: { from: string; to: string };
  byReason: Record<string, number>;
  /** Presentations decided otherwise than planned: must be empty. */
  wrong: string[];
  /** Presenting the day through the gates, real time. */
  presentMs: number;
  tapsPerSec: number;
  brokerDownMs: number;
  slowLinkBytesPerSec: number;
  /** Broker back to every tap of both gates delivered. */
  drainMs: number;
  drainTapsPerSec: number;
  maxBackoffMs: number | null;
  gates: DayGateFigures[];
  collector: { batches: number; stored: number; duplicates: number };
  lost: number;
  problems: string[];
  wallMs: number;
}

const SLOW_LINK_BYTES_PER_SEC = 512 * 1024;

/**
 * Broker down for a simulated day. Two gates of one station share the day's
 * passengers: DAY-1's network is down from before its first tap (it never
 * reaches the broker), DAY-2 uploads the first taps of the morning, then the
 * broker is killed (SIGKILL) and stays down for the rest of the day. Then the
 * broker comes back without memory of anyone, and the collector a moment
 * after it: DAY-1, on a slow uplink, has its first batch routed to nobody
 * while the rest of its window is still on the way. Every tap of both
 * journals must reach the reference collector's store, once, unchanged.
 */
export async function runDayOffline(options: DayOfflineOptions): Promise<DayOfflineFigures> {
  const started = performance.now();
  const random = seededRandom(options.seed ?? 7);
  const teardown = new Teardown();
  const dir = mkdtempSync(join(tmpdir(), 'citygate-outage-day-'));
  teardown.add('remove the temp dir', () => rmSync(dir, { recursive: true, force: true }));
  try {
    const city = new City();
    const fleet = new FleetOps();
    const trust = city.trustList([fleet.jwk()]);
    const denyList = city.denySnapshot(Math.floor(SERVICE_START / 1000) - 3_600);
    const broker = await Mosquitto.start();
    teardown.add('stop the broker', () => broker.stop());
    const network = await TcpRelay.start(broker.port, options.slowLinkBytesPerSec ?? SLOW_LINK_BYTES_PER_SEC);
    teardown.add('close the relay', () => network.close());
    network.cut('refuse');
    const collectorNet = await TcpRelay.start(broker.port);
    teardown.add('close the relay', () => collectorNet.close());
    const reference = await startReferenceCollector(collectorNet.url, dir, 'outage-day-collector');
    teardown.add('stop the collector', () => reference.collector.stop());

    const common = { site: 'cq-metro-jiefangbei', trust, startWallMs: SERVICE_START - 10 * 60_000, uploader: options.uploader ?? {}, ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}) };
    // DAY-1 kept the deny list it had from yesterday; it will not hear from the fleet today.
    const offline = await startOutageGate({ ...common, gateId: 'DAY-1', url: network.url, dir: join(dir, 'DAY-1'), heldDenyLists: [{ issuer: denyList.issuer, bytes: fleet.denyUpdate(denyList) }] });
    teardown.add('stop the gate', () => offline.stop());
    const online = await startOutageGate({ ...common, gateId: 'DAY-2', url: broker.url, dir: join(dir, 'DAY-2') });
    teardown.add('stop the gate', () => online.stop());
    await waitUntil(async () => (await retainedStatus(broker.url, 'DAY-2'))?.online === true, 'DAY-2 connected and subscribed');
    await fleet.publishDenyUpdate(broker.url, denyList);
    await waitUntil(() => online.denyList.seq(denyList.issuer) === denyList.seq, 'DAY-2 has the deny list');

    const gates = [offline, online];
    const lanes = gates.map((gate) => new Lane(gate, city, random));
    const times = serviceDay(options.taps, random);
    const connectedTaps = Math.max(20, Math.round(options.taps * (options.connectedShare ?? 0.01)));
    const presentStart = performance.now();
    let downAt = 0;
    for (let i = 0; i < times.length; i++) {
      if (i === connectedTaps) {
        await waitUntil(() => online.journal.deliveredSeq() === online.journal.lastTapSeq(), 'the first taps of DAY-2 delivered');
        await broker.kill();
        collectorNet.cut('refuse');
        downAt = performance.now();
      }
      await lanes[i % lanes.length]!.presentAt(times[i]!);
      // Let the links' reconnect attempts and timers run between passengers, as they would on the board.
      if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const presentMs = performance.now() - presentStart;
    const atReturn = gates.map((gate) => ({ delivered: gate.journal.deliveredSeq(), backlog: gate.journal.backlog(), connects: gate.connects() }));

    const back = performance.now();
    await broker.restart();
    const firstBatch = await firstMessage(broker.url, topics.taps(offline.gateId));
    network.restore();
    await within(firstBatch.payload, `the first batch of ${offline.gateId} on the broker`, 120_000);
    await firstBatch.close();
    collectorNet.restore();
    const reconnectedAt = await Promise.all(gates.map((gate, i) => reconnected(gate, atReturn[i]!.connects)));
    const drainedAt = await Promise.all(gates.map((gate) => drained(gate, options.taps)));
    const drainEnd = Math.max(...drainedAt);

    const checks = gates.map((gate) => checkDelivery(gate.journal, gate.gateId, reference.db));
    const stats = reference.collector.stats();
    const problems = [...checks.flatMap((c) => c.problems.map((p) => `${c.gate}: ${p}`)), ...checkCollector(stats, Object.fromEntries(checks.map((c) => [c.gate, c.lastSeq])))];
    atReturn.forEach((state, i) => {
      const expected = i === 0 ? 0 : 1;
      if (state.connects !== expected) problems.push(`${gates[i]!.gateId} connected ${state.connects} times before the broker came back, expected ${expected}`);
    });
    const wrong = lanes.flatMap((lane) => lane.figures.wrong);
    const byReason: Record<string, number> = {};
    for (const lane of lanes) for (const [reason, n] of Object.entries(lane.figures.byReason)) byReason[reason] = (byReason[reason] ?? 0) + n;
    const taps = lanes.reduce((sum, lane) => sum + lane.figures.taps, 0);
    return {
      taps,
      day: { from: new Date(times[0]!).toISOString(), to: new Date(times.at(-1)!).toISOString() },
      byReason,
      wrong,
      presentMs: Math.round(presentMs),
      tapsPerSec: Math.round(taps / (presentMs / 1000)),
      brokerDownMs: Math.round(back - downAt),
      slowLinkBytesPerSec: options.slowLinkBytesPerSec ?? SLOW_LINK_BYTES_PER_SEC,
      drainMs: Math.round(drainEnd - back),
      drainTapsPerSec: Math.round(atReturn.reduce((sum, s) => sum + s.backlog, 0) / ((drainEnd - back) / 1000)),
      maxBackoffMs: options.maxBackoffMs ?? null,
      gates: checks.map((check, i) => ({
        ...check,
        deliveredBeforeOutage: atReturn[i]!.delivered,
        backlogAtReturn: atReturn[i]!.backlog,
        connectsWhileDown: atReturn[i]!.connects - (i === 0 ? 0 : 1),
        reconnectMs: Math.round(reconnectedAt[i]! - back),
        drainMs: Math.round(drainedAt[i]! - reconnectedAt[i]!),
      })),
      collector: { batches: stats.batches, stored: stats.stored, duplicates: stats.duplicates },
      lost: checks.reduce((sum, c) => sum + c.lost, 0),
      problems,
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await teardown.run();
  }
}

/** When the gate's link connected again after `before` connects, from its log. */
async function reconnected(gate: OutageGate, before: number): Promise<number> {
  await waitUntil(() => gate.connects() > before, `${gate.gateId} reconnected`, 120_000);
  return gate.log.timeOf('connected to the broker', before + 1)!;
}

/** When every tap of the gate is acknowledged; a day of taps gets time in proportion. */
async function drained(gate: OutageGate, dayTaps: number): Promise<number> {
  await waitUntil(() => gate.journal.deliveredSeq() === gate.journal.lastTapSeq(), `${gate.gateId} delivered all ${gate.journal.lastTapSeq()} taps`, 120_000 + dayTaps);
  return performance.now();
}
