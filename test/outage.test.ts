import { beforeAll, describe, expect, it } from 'vitest';
import type { BrokerRestartFigures } from '../faults/outage/brokerRestart.js';
import type { DeliveryCheck } from '../faults/outage/deliveryCheck.js';
import { OUTAGES_CI, runOutages, type OutageFigures } from '../faults/outage/runOutages.js';

const ALL_REASONS = ['ok', 'expired', 'bad-signature', 'unknown-issuer', 'deny-listed', 'replayed', 'passback', 'malformed'];
const HOUR_MS = 3_600_000;

/** Every journal tap stored once with the same content, seqs 1..N, the gate's mark at N. */
function expectAllDelivered(check: DeliveryCheck, taps: number): void {
  expect(check.problems).toEqual([]);
  expect(check.lost).toBe(0);
  expect(check.journalTaps).toBe(taps);
  expect(check.storedTaps).toBe(taps);
  expect(check.lastSeq).toBe(taps);
  expect(check.deliveredMark).toBe(taps);
  expect(check.backlog).toBe(0);
}

function expectRestartSurvived(f: BrokerRestartFigures): void {
  expect(f.problems).toEqual([]);
  expect(f.wrong).toEqual([]);
  expect(f.lost).toBe(0);
  expectAllDelivered(f.delivery, f.taps);
  expect(f.taps).toBeGreaterThan(OUTAGES_CI.restartBurst!);
  // Killed mid-upload: the collector had acknowledged part of the burst, most of it was still in the journal only.
  expect(f.ackedBeforeKill).toBeGreaterThan(1);
  expect(f.backlogAtKill).toBeGreaterThan(OUTAGES_CI.restartBurst! / 2);
  expect(f.reconnects).toBeGreaterThanOrEqual(1);
  expect(f.denyUpdate).toEqual({ seq: 2, publishedWhileGateAway: f.persistence, applied: true, holderRefusedWith: 'deny-listed' });
  expect(f.statusBack).toBe(true);
}

describe('outages (CI size)', () => {
  let figures: OutageFigures;
  beforeAll(async () => {
    figures = await runOutages(OUTAGES_CI);
    process.stdout.write(`outage figures: ${JSON.stringify(figures)}\n`);
  }, 240_000);

  it('loses nothing anywhere', () => {
    expect(figures.problems).toEqual([]);
    expect(figures.lost).toBe(0);
  });

  it('a day with the broker down: tens of thousands of taps over the service day, all delivered once it is back', () => {
    const f = figures.dayOffline;
    expect(f.taps).toBe(OUTAGES_CI.dayTaps);
    expect(f.taps).toBeGreaterThanOrEqual(20_000);
    expect(Date.parse(f.day.to) - Date.parse(f.day.from)).toBeGreaterThan(17 * HOUR_MS);
    expect(Object.keys(f.byReason).sort()).toEqual([...ALL_REASONS].sort());
    expect(f.byReason.ok!).toBeGreaterThan(f.taps * 0.8);
    expect(f.wrong).toEqual([]);
    const [never, killed] = f.gates;
    // DAY-1 never reached the broker before it came back; DAY-2 uploaded the first taps, then lost it.
    expect(never!.deliveredBeforeOutage).toBe(0);
    expect(never!.backlogAtReturn).toBe(never!.lastSeq);
    expect(killed!.deliveredBeforeOutage).toBeGreaterThan(0);
    expect(killed!.backlogAtReturn).toBe(killed!.lastSeq - killed!.deliveredBeforeOutage);
    expect(killed!.backlogAtReturn).toBeGreaterThan(killed!.lastSeq * 0.9);
    for (const gate of f.gates) {
      expect(gate.connectsWhileDown).toBe(0);
      expectAllDelivered(gate, gate.lastSeq);
    }
    expect(never!.lastSeq + killed!.lastSeq).toBe(f.taps);
    expect(f.collector.stored).toBe(f.taps);
    expect(f.lost).toBe(0);
    expect(f.problems).toEqual([]);
  });

  it('network flapping every few seconds: every cut a reconnect, resends deduplicated, nothing lost', () => {
    const f = figures.flapping;
    expect(f.flaps).toBe(OUTAGES_CI.flaps);
    expect(f.gateCuts + f.collectorLongOutages).toBe(f.flaps);
    expect(f.collectorLongOutages).toBe(1);
    // Each cut hit a live session of the gate, and each was followed by a reconnect in its log.
    expect(f.relays.gate.cutLive).toBeGreaterThanOrEqual(f.gateCuts);
    expect(f.reconnects).toBeGreaterThanOrEqual(f.gateCuts);
    expect(f.relays.collector.cutLive).toBeGreaterThanOrEqual(f.collectorCuts + f.collectorLongOutages);
    // The collector away past the ack timeout: the gate sent again, the collector got taps twice and kept them once.
    expect(f.resendsOnAckTimeout).toBeGreaterThanOrEqual(1);
    expect(f.duplicates).toBeGreaterThan(0);
    expect(f.taps).toBeGreaterThan(0);
    expectAllDelivered(f.delivery, f.taps);
    expect(f.wrong).toEqual([]);
    expect(f.lost).toBe(0);
    expect(f.problems).toEqual([]);
  });

  it('broker killed mid-upload and restarted with persistence: sessions kept, an update queued while the gate was away reaches it', () => {
    const f = figures.restartWithPersistence;
    expect(f.persistence).toBe(true);
    expectRestartSurvived(f);
    expect(f.collectorSessions.at(-1)).toBe(true);
  });

  it('broker killed mid-upload and restarted without persistence: the gate subscribes again, gets the update and republishes its status', () => {
    const f = figures.restartWithoutPersistence;
    expect(f.persistence).toBe(false);
    expectRestartSurvived(f);
    expect(f.collectorSessions.length).toBeGreaterThanOrEqual(2);
    expect(f.collectorSessions.at(-1)).toBe(false);
  });
});
