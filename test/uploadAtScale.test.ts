import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { AckTimeout } from '../src/core/sync/ackTimeout.js';
import { denyListIssuer, gateOfTopic, idOfLevel, topicLevel, topics } from '../src/core/sync/topics.js';
import type { UploaderOptions } from '../src/core/sync/tapUploader.js';
import { TestIssuer } from '../sim/issuer.js';
import { seededRandom } from '../sim/seededRandom.js';
import { brokerForFile, cleanupAfterEach } from './support/cleanups.js';
import { FleetClient, TestCollector } from './support/fleetClient.js';
import { Mosquitto } from './support/mosquitto.js';
import { SilentBroker } from './support/silentBroker.js';
import { denyListPayload, TestFleetKey } from './support/fleetSigner.js';
import { StepClock } from './support/stepClock.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { UploaderRig } from './support/uploaderRig.js';
import { waitFor } from './support/waitFor.js';

const defer = cleanupAfterEach();
const broker = brokerForFile();
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const TIMEOUT_LINE = 'tap ack timeout: sending again from the delivered mark after a pause';

function rig(clock: StepClock, options: Partial<UploaderOptions> = {}, random?: () => number, gate?: string): UploaderRig {
  const made = new UploaderRig(clock, options, random, gate);
  defer(async () => made.close());
  return made;
}

/** Taps acknowledged `rttMs` after they went out, `count` times: the uploader measures that round trip. */
async function measured(gate: UploaderRig, rttMs: number, count = 4): Promise<void> {
  for (let i = 0; i < count; i++) {
    await gate.tap();
    await gate.clock.advance(rttMs);
    await gate.ack(gate.lastSeq());
  }
}

describe('ack timeout (RFC 6298 arithmetic)', () => {
  it('is the configured timeout until a round trip is measured, then smoothed RTT + 4 x deviation within the bounds', () => {
    const timeout = new AckTimeout({ initialMs: 10_000, minMs: 1_000, maxMs: 60_000 });
    expect(timeout.currentMs()).toBe(10_000);
    timeout.measured(400);
    // 400 + 4 x 200
    expect(timeout.currentMs()).toBe(1_200);
    timeout.measured(400);
    // deviation 3/4 x 200 = 150: 400 + 600
    expect(timeout.currentMs()).toBe(1_000);
    for (let i = 0; i < 20; i++) timeout.measured(50);
    expect(timeout.currentMs()).toBe(1_000);
    for (let i = 0; i < 40; i++) timeout.measured(30_000);
    expect(timeout.currentMs()).toBeGreaterThan(30_000);
    timeout.measured(200_000);
    expect(timeout.currentMs()).toBe(60_000);
  });

  it('doubles at each timeout up to the bound, and comes back only with a new measurement', () => {
    const timeout = new AckTimeout({ initialMs: 10_000, minMs: 1_000, maxMs: 60_000 });
    timeout.measured(100);
    const seen = [];
    for (let i = 0; i < 8; i++) {
      seen.push(timeout.currentMs());
      timeout.timedOut();
    }
    expect(seen).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    timeout.measured(100);
    expect(timeout.currentMs()).toBe(1_000);
  });
});

describe('tap upload at city scale (injected clock)', () => {
  it('resends after the measured timeout, not the configured 10 s, and only after a random pause', async () => {
    const clock = new StepClock();
    const gate = rig(clock, { ackTimeoutMs: 10_000 }, () => 0.5);
    gate.uploader.connected();
    // Before any ack, the configured 10 s hold.
    await gate.tap();
    await clock.advance(9_999);
    expect(gate.resends()).toEqual([]);
    await clock.advance(1);
    expect(gate.log.has(TIMEOUT_LINE, { timeoutMs: 10_000, pauseMs: 2_500, nextTimeoutMs: 20_000 })).toBe(true);
    // Taps wait out the pause: nothing goes until it ends.
    await clock.advance(2_499);
    expect(gate.resends()).toEqual([]);
    await clock.advance(1);
    expect(gate.resends()).toEqual([{ at: 12_500, seqs: [1] }]);
    await gate.ack(1);

    // Acks after 80 ms: the timeout comes down to its lower bound, 1 s.
    await measured(gate, 80);
    await gate.tap();
    const sentAt = clock.at;
    await clock.advance(999);
    expect(gate.resends()).toHaveLength(1);
    // Timed out at 1 s; the pause is half of it times the random 0.5.
    await clock.advance(1 + 249);
    expect(gate.resends()).toHaveLength(1);
    await clock.advance(1);
    expect(gate.resends().at(-1)).toEqual({ at: sentAt + 1_250, seqs: [gate.lastSeq()] });
  });

  it('backs off: each timeout without a measured round trip doubles the next, up to the bound', async () => {
    const clock = new StepClock();
    const gate = rig(clock, { ackTimeoutMs: 10_000, maxAckTimeoutMs: 16_000 }, () => 0);
    gate.uploader.connected();
    await measured(gate, 50);
    await gate.tap();
    const start = clock.at;
    await clock.advance(60_000);
    // No pause (random 0): resends at 1, 1+2, 3+4, 7+8, 15+16, 31+16, 47+16 s.
    expect(gate.resends().map((b) => b.at - start)).toEqual([1_000, 3_000, 7_000, 15_000, 31_000, 47_000]);
    // An ack of a resent batch is no measurement (Karn): the next fresh batch still has the backed-off timeout.
    await gate.ack(gate.lastSeq());
    const before = gate.resends().length;
    await gate.tap();
    await clock.advance(15_999);
    expect(gate.resends()).toHaveLength(before);
    await clock.advance(1);
    expect(gate.resends()).toHaveLength(before + 1);
    // A fresh batch acked: measured again, back to 1 s.
    await gate.ack(gate.lastSeq());
    await gate.tap();
    await clock.advance(50);
    await gate.ack(gate.lastSeq());
    await gate.tap();
    const fresh = clock.at;
    await clock.advance(1_000);
    expect(gate.resends().at(-1)!.at).toBe(fresh + 1_000);
  });

  it('a 1 tap/s gate in a 15 s collector stall sends a few batches, not one per tap: each resend is the oldest tap alone, and what waited goes once', async () => {
    const clock = new StepClock();
    const gate = rig(clock, { window: 8 }, seededRandom(7));
    gate.uploader.connected();
    await measured(gate, 50);
    const stallFrom = gate.sent.length;
    const markBefore = gate.journal.deliveredSeq();
    for (let second = 0; second < 15; second++) {
      await gate.tap();
      await clock.advance(1_000);
    }
    const stall = gate.sent.slice(stallFrom);
    // Without coalescing: 8 one-tap batches filling the window, then the window again at each timeout.
    expect(stall.length).toBeLessThanOrEqual(5);
    // The first tap went alone; every later batch is a probe: that tap again, alone. The 14 others wait.
    expect(stall[0]!.seqs).toEqual([markBefore + 1]);
    for (const batch of stall.slice(1)) expect(batch.seqs).toEqual([markBefore + 1]);
    const pauses = gate.log.lines.filter((l) => l.message === TIMEOUT_LINE).map((l) => l.fields);
    expect(pauses.map((p) => p.timeoutMs)).toEqual([1_000, 2_000, 4_000].slice(0, pauses.length));

    // The collector is back and acks the probe: what waited goes at once, as one batch, and taps flow one by one again.
    const highestSent = () => Math.max(...gate.sent.flatMap((b) => b.seqs));
    await gate.ack(highestSent());
    expect(gate.sent.at(-1)!.seqs).toEqual(Array.from({ length: 14 }, (_, i) => markBefore + 2 + i));
    expect(gate.sent.at(-1)!.seqs.at(-1)).toBe(gate.lastSeq());
    await gate.ack(highestSent());
    expect(gate.journal.deliveredSeq()).toBe(gate.lastSeq());
    const after = gate.sent.length;
    await gate.tap();
    expect(gate.sent.slice(after)).toEqual([{ at: clock.at, seqs: [gate.lastSeq()] }]);
  });

  it('the resend after the pause is the oldest batch alone; taps that came meanwhile go once it is acked; an ack during the pause cancels it', async () => {
    const clock = new StepClock();
    const gate = rig(clock, {}, () => 0.9);
    gate.uploader.connected();
    await measured(gate, 100);
    const mark = gate.journal.deliveredSeq();
    await gate.tap();
    await clock.advance(1_000);
    expect(gate.log.has(TIMEOUT_LINE, { timeoutMs: 1_000, pauseMs: 450 })).toBe(true);
    await gate.tap(2);
    const during = gate.sent.length;
    await clock.advance(449);
    expect(gate.sent.length).toBe(during);
    await clock.advance(1);
    expect(gate.sent.at(-1)!.seqs).toEqual([mark + 1]);
    expect(gate.sent.length).toBe(during + 1);
    // The probe is acked: the two that waited go together at once.
    await gate.ack(mark + 1);
    expect(gate.sent.at(-1)!.seqs).toEqual([mark + 2, mark + 3]);

    // Timed out again (2 s: the ack of a resent batch measures nothing), and the ack comes during the pause: no resend, and the next tap goes at once.
    await clock.advance(2_000);
    expect(gate.log.has(TIMEOUT_LINE, { timeoutMs: 2_000, pauseMs: 900 })).toBe(true);
    const sent = gate.sent.length;
    await gate.ack(mark + 3);
    await clock.advance(10_000);
    expect(gate.sent.length).toBe(sent);
    await gate.tap();
    expect(gate.sent.at(-1)!.seqs).toEqual([mark + 4]);
  });

  it('reconnected with taps published and not acked, asks first and sends again only what the answer says is missing; unanswered, all from the mark after the ack timeout', async () => {
    const clock = new StepClock();
    const gate = rig(clock, { batchSize: 5 });
    gate.uploader.connected();
    await gate.tap(10);
    expect(gate.sent.map((b) => b.seqs)).toEqual([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]);
    gate.uploader.disconnected();
    gate.uploader.connected();
    // The ask: a batch without taps, and nothing else until it is answered.
    expect(gate.sent.at(-1)).toEqual({ at: clock.at, seqs: [] });
    await gate.tap();
    await clock.advance(5_000);
    expect(gate.sent).toHaveLength(3);
    // The collector has 1..5: the mark moves there and 6 on go, the new tap with them.
    await gate.ack(5);
    expect(gate.journal.deliveredSeq()).toBe(5);
    expect(gate.sent.slice(3)).toEqual([{ at: clock.at, seqs: [6, 7, 8, 9, 10] }, { at: clock.at, seqs: [11] }]);

    // Unanswered (no collector, or one from before asks): after the ack timeout, 10 s with nothing measured, all from the mark.
    gate.uploader.disconnected();
    gate.uploader.connected();
    const askedAt = clock.at;
    expect(gate.sent.at(-1)).toEqual({ at: askedAt, seqs: [] });
    await clock.advance(9_999);
    expect(gate.sent.at(-1)!.seqs).toEqual([]);
    await clock.advance(1);
    expect(gate.sent.slice(-2)).toEqual([{ at: askedAt + 10_000, seqs: [6, 7, 8, 9, 10] }, { at: askedAt + 10_000, seqs: [11] }]);
    await gate.ack(11);
    expect(gate.journal.backlog()).toBe(0);
  });

  it('gates that timed out together resend spread over the pause, not at once', async () => {
    const clock = new StepClock();
    const gates = Array.from({ length: 24 }, (_, i) => rig(clock, {}, seededRandom(100 + i), `RIG-${i}`));
    for (const gate of gates) {
      gate.uploader.connected();
      await gate.tap();
    }
    await clock.advance(50);
    for (const gate of gates) await gate.ack(1);
    for (const gate of gates) await gate.tap();
    // Every collector ack stops at once (a stall) just after; the initial timeout here is 1 s (measured 50 ms).
    await clock.advance(1_600);
    const resendAt = gates.map((gate) => gate.resends()[0]!.at);
    const first = Math.min(...resendAt);
    const last = Math.max(...resendAt);
    // Spread over the pause (0..500 ms after the 1 s timeout); no 50 ms slot holds more than a quarter of them.
    expect(first).toBeGreaterThanOrEqual(1_050);
    expect(last - first).toBeGreaterThan(350);
    const slots = new Map<number, number>();
    for (const at of resendAt) slots.set(Math.floor(at / 50), (slots.get(Math.floor(at / 50)) ?? 0) + 1);
    expect(Math.max(...slots.values())).toBeLessThanOrEqual(6);
  });
});

async function tap(gate: SyncGate, n: number): Promise<void> {
  const outcome = await gate.gate.presentCode(issuer.issuerCode({ sub: `acct-${n}`, iat: gate.nowSec() }));
  expect(outcome.type).toBe('tap');
}

/** The gate's ack timeouts logged from line `from` on. */
function timeouts(gate: SyncGate, from = 0): Record<string, unknown>[] {
  return gate.log.lines.slice(from).filter((l) => l.message === TIMEOUT_LINE).map((l) => l.fields);
}

/** Bounds made small so that a stall of two timeouts is short; the defaults are 1 s and 60 s. */
const UPLOADER = { ackTimeoutMs: 600, minAckTimeoutMs: 200, maxAckTimeoutMs: 800 };

describe('tap upload at city scale (real mosquitto)', () => {
  it('after a collector stall, gates resend their oldest batch alone, paced by doubling timeouts and spread by random pauses, and send what waited once', async () => {
    const collector = await TestCollector.start(broker().url);
    defer(() => collector.close());
    const gates: SyncGate[] = [];
    for (let i = 0; i < 6; i++) {
      const gate = await startSyncGate({ url: broker().url, gateId: `STALL-${i}`, issuers: [issuer], fleet: [], uploader: UPLOADER });
      defer(() => gate.dispose());
      gates.push(gate);
    }
    // Round trips measured on acked taps.
    for (let n = 1; n <= 3; n++) for (const gate of gates) await tap(gate, n);
    await waitFor(() => gates.every((g) => g.journal.deliveredSeq() === 3), 'the first taps acknowledged');

    // The collector stops acking; every gate takes taps through two timeouts of its own.
    collector.autoAck = false;
    const batchesBefore = collector.batches.length;
    const logFrom = new Map(gates.map((g) => [g, g.log.lines.length]));
    const resends = (g: SyncGate) => g.log.lines.slice(logFrom.get(g)).filter((l) => l.message === 'sending taps again from the delivered mark').length;
    for (let round = 1; round <= 2; round++) {
      for (const gate of gates) await tap(gate, 3 + round);
      await waitFor(() => gates.every((g) => timeouts(g, logFrom.get(g)).length >= round), `every gate timed out ${round} time(s)`);
    }
    const own = (g: SyncGate) => collector.batches.slice(batchesBefore).filter((b) => b.gate === g.gateId);
    // A probe: the resend from the mark carries the oldest batch (tap 4) alone; tap 5 waits for its ack.
    for (const gate of gates) await waitFor(() => own(gate).filter((b) => b.taps.map((t) => t.seq).join() === '4').length >= 2, `${gate.gateId} resent 4 alone`);

    for (const gate of gates) {
      const times = timeouts(gate, logFrom.get(gate));
      // Paced: with no ack to measure, each timeout is twice the one before (up to the bound).
      for (const [i, t] of times.entries()) {
        expect(t.nextTimeoutMs).toBe(Math.min(2 * (t.timeoutMs as number), UPLOADER.maxAckTimeoutMs));
        if (i > 0) expect(t.timeoutMs).toBe(times[i - 1]!.nextTimeoutMs);
      }
      // Tap 4 went out once and then once per timeout; tap 5 at most once, alone (before tap 4 was late); nothing else.
      const batches = own(gate).map((b) => b.taps.map((t) => t.seq).join());
      expect(batches.filter((b) => b === '5').length).toBeLessThanOrEqual(1);
      expect(batches.filter((b) => b !== '5' && b !== '4')).toEqual([]);
      expect(batches.length).toBeLessThanOrEqual(2 + resends(gate));
    }
    // Spread: the pauses before the first resend differ from gate to gate, each within half the timeout that expired.
    // Six random draws of a whole ms in [0, 100] may share a value now and then (one run in seven); four distinct at least
    // is what any spread gives (fewer: about one run in ten thousand), and all equal is what none gives.
    const firsts = gates.map((g) => timeouts(g, logFrom.get(g))[0]!);
    for (const t of firsts) expect(t.pauseMs as number).toBeLessThanOrEqual((t.timeoutMs as number) / 2);
    expect(new Set(firsts.map((t) => t.pauseMs)).size).toBeGreaterThanOrEqual(4);

    // The collector is back: everything is acknowledged, each tap stored once.
    collector.autoAck = true;
    for (const gate of gates) await collector.ack(gate.gateId, collector.contiguous(gate.gateId));
    await waitFor(() => gates.every((g) => g.journal.backlog() === 0), 'every backlog back to zero');
    for (const gate of gates) expect(collector.contiguous(gate.gateId)).toBe(5);
    expect(collector.conflicts).toEqual([]);
  });

  it('drops and remakes a connection whose SUBACK never comes, with a log line', async () => {
    const silent = await SilentBroker.start({ mqtt5: true });
    defer(() => silent.close());
    const gate = await startSyncGate({ url: silent.url, gateId: 'DEAF-1', issuers: [issuer], fleet: [], subackTimeoutMs: 300, waitReady: false });
    defer(() => gate.dispose());
    await waitFor(() => silent.connectsOf('citygate-DEAF-1').length >= 3, 'the gate connected again after each missing SUBACK');
    expect(gate.log.count('no SUBACK from the broker: connecting again')).toBeGreaterThanOrEqual(2);
    expect(gate.log.has('no SUBACK from the broker: connecting again', { waitedMs: 300 })).toBe(true);
    expect(silent.subscribes).toBeGreaterThanOrEqual(2);
    expect(gate.log.count('broker connection lost')).toBeGreaterThanOrEqual(2);
    expect(silent.connectsOf('citygate-DEAF-1').every((c) => c.protocolLevel === 5)).toBe(true);
  });

  it('speaks MQTT 3.1.1 to a broker that refuses MQTT 5', async () => {
    const silent = await SilentBroker.start({ mqtt5: false });
    defer(() => silent.close());
    const gate = await startSyncGate({ url: silent.url, gateId: 'OLD-1', issuers: [issuer], fleet: [], subackTimeoutMs: 300, waitReady: false });
    defer(() => gate.dispose());
    await waitFor(() => silent.connectsOf('citygate-OLD-1').filter((c) => c.protocolLevel === 4).length >= 2, 'the gate connected as 3.1.1');
    expect(silent.connectsOf('citygate-OLD-1')[0]!.protocolLevel).toBe(5);
    expect(gate.log.count('the broker does not speak MQTT 5: using MQTT 3.1.1')).toBe(1);
    // Still subscribing, and still bounded in how long it waits for the SUBACK.
    expect(silent.subscribes).toBeGreaterThanOrEqual(1);
  });
});

describe('subscriptions and the kept session (real mosquitto)', () => {
  it('does not subscribe again when the broker kept the session, and does when it did not', async () => {
    const own = await Mosquitto.start();
    defer(() => own.stop());
    const fleet = await FleetClient.connect(own.url, 'kept-fleet');
    defer(() => fleet.close());
    // A retained trust message every subscription brings, which the gate refuses and logs each time it comes.
    await fleet.publish('citygate/v1/trust', 'not a signed message', true);
    const gate = await startSyncGate({ url: own.url, gateId: 'KEPT-1', issuers: [issuer], fleet: [] });
    defer(() => gate.dispose());
    const refused = () => gate.log.count('trust-list update refused');
    await waitFor(() => refused() === 1, 'the retained message came with the first subscription');

    // Another client takes the session over and leaves it: the gate's connection is dropped, the session kept.
    const intruder = await mqtt.connectAsync(own.url, { clientId: 'citygate-KEPT-1', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 600 } });
    await intruder.endAsync();
    await waitFor(() => gate.log.count('connected to the broker') === 2 && gate.link.connected(), 'the gate connected again');
    for (const n of [2, 3]) {
      await fleet.publish('citygate/v1/trust', `live ${n}, not retained`);
      await waitFor(() => refused() >= n, `live message ${n} came through the kept subscription`);
    }
    // Only the live ones: the retained message did not come again with a second subscription.
    expect(refused()).toBe(3);

    // A broker restart without persistence loses the session: the gate subscribes again.
    await own.restart();
    await waitFor(() => gate.log.count('connected to the broker') === 3 && gate.link.connected(), 'the gate connected to the new broker');
    await fleet.publish('citygate/v1/trust', 'after the restart');
    await waitFor(() => refused() === 4, 'subscribed again on a broker that lost the session');
  });
});

describe('topic levels', () => {
  it('encode every character but letters, digits, _ and - as %XX of its UTF-8 bytes, and decode only that one form', () => {
    expect(topics.denyList('cq.yukuaima')).toBe('citygate/v1/denylist/cq%2Eyukuaima');
    expect(topics.taps('G-1_a')).toBe('citygate/v1/gates/G-1_a/taps');
    expect(topics.status('站.1')).toBe('citygate/v1/gates/%E7%AB%99%2E1/status');
    expect(topics.taps('+')).toBe('citygate/v1/gates/+/taps');
    expect(topicLevel('a%b c')).toBe('a%25b%20c');
    for (const id of ['cq.yukuaima', 'a%b c', '站.1', 'G-1_a', 'x~y*z']) expect(idOfLevel(topicLevel(id))).toBe(id);
    // Not the canonical form: lower-case hex, a plain character encoded, a stray %.
    for (const level of ['cq%2eyukuaima', '%41BC', 'a%2', 'a%ZZ', '%2F']) expect(idOfLevel(level)).toBeUndefined();
  });

  it('take the old, unencoded levels during the move (docs/sync.md)', () => {
    expect(denyListIssuer('citygate/v1/denylist/cq%2Eyukuaima')).toBe('cq.yukuaima');
    expect(denyListIssuer('citygate/v1/denylist/cq.yukuaima')).toBe('cq.yukuaima');
    expect(denyListIssuer('citygate/v1/denylist/cq/yukuaima')).toBeUndefined();
    expect(gateOfTopic('citygate/v1/gates/g%2E7/taps', 'taps')).toBe('g.7');
    expect(gateOfTopic('citygate/v1/gates/g.7/taps', 'taps')).toBe('g.7');
    expect(gateOfTopic('citygate/v1/gates/g.7/status', 'taps')).toBeUndefined();
    expect(gateOfTopic('citygate/v1/gates/g.7/taps/ack', 'taps')).toBeUndefined();
  });
});

describe('encoded topic levels on a real broker', () => {
  it('a gate takes a deny list on the encoded issuer topic, and on the old one during the move', async () => {
    const fleetKey = new TestFleetKey('ES256');
    const fleet = await FleetClient.connect(broker().url, 'encoded-fleet');
    defer(() => fleet.close());
    const gate = await startSyncGate({ url: broker().url, gateId: 'ENC-1', issuers: [issuer], fleet: [fleetKey] });
    defer(() => gate.dispose());
    const deniedAt = async (sub: string) => (await gate.gate.presentCode(issuer.issuerCode({ sub, iat: gate.nowSec() }))).type === 'tap' && gate.journal.taps().at(-1)!.reason === 'deny-listed';

    await fleet.publish('citygate/v1/denylist/cq%2Eyukuaima', fleetKey.sign(denyListPayload({ issuer: 'cq.yukuaima', seq: 1, base: 0, add: ['acct-new'] })));
    await waitFor(() => gate.denyList.seqs()['cq.yukuaima'] === 1, 'the update on the encoded topic applied');
    expect(await deniedAt('acct-new')).toBe(true);
    await fleet.publish('citygate/v1/denylist/cq.yukuaima', fleetKey.sign(denyListPayload({ issuer: 'cq.yukuaima', seq: 2, base: 1, add: ['acct-old'] })));
    await waitFor(() => gate.denyList.seqs()['cq.yukuaima'] === 2, 'the update on the old topic applied');
    expect(await deniedAt('acct-old')).toBe(true);
  });
});
