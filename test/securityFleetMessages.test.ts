import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../hal/clock.js';
import type { Output } from '../provisioning/fleet/delivery.js';
import { fleetWatch } from '../provisioning/fleet/fleetWatch.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { openDenyListUpdate } from '../src/core/sync/denyListMessage.js';
import { openFleetCommand } from '../src/core/sync/fleetCommand.js';
import { fleetTimeOf, FleetMessageError, LAST_TRUSTED_META } from '../src/core/sync/fleetMessage.js';
import { openRevocationUpdate } from '../src/core/sync/revocationUpdate.js';
import { openTrustUpdate } from '../src/core/sync/trustUpdate.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { FleetClient, type CommandResult } from './support/fleetClient.js';
import { denyListPayload, TestFleetKey } from './support/fleetSigner.js';
import { Mosquitto } from './support/mosquitto.js';
import { START, startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';

/*
 * Issue 17: fleet messages bound to their purpose (a deny-list update is not a
 * command nor a trust list), finding 8 (a retired fleet key taken while the
 * gate's clock is untrusted) and finding 7 (`fleet watch` attributing a status
 * to the gate its payload names instead of the gate of its topic).
 */

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const fleetKey = new TestFleetKey('ES256');
const NOW = Math.floor(START / 1000);

let broker: Mosquitto;
let ops: FleetClient;
const gates: SyncGate[] = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
  ops = await FleetClient.connect(broker.url, 'fleet-ops');
  await ops.subscribe('citygate/v1/gates/+/cmd/result');
});
afterEach(async () => {
  for (const gate of gates.splice(0)) await gate.dispose();
});
afterAll(async () => {
  await ops.close();
  await broker.stop();
});

function refusal(open: () => unknown): FleetMessageError {
  try {
    open();
  } catch (error) {
    if (error instanceof FleetMessageError) return error;
    throw error;
  }
  throw new Error('the message was accepted');
}

async function command(gate: SyncGate, bytes: Uint8Array): Promise<CommandResult> {
  const topic = `citygate/v1/gates/${gate.gateId}/cmd/result`;
  const before = ops.json(topic).length;
  await ops.publish(`citygate/v1/gates/${gate.gateId}/cmd`, bytes);
  await waitFor(() => ops.json(topic).length > before, `a command result from ${gate.gateId}`);
  return ops.json<CommandResult>(topic)[before]!;
}

function opens(gate: SyncGate): number {
  return gate.board.barrier.actions.filter((a) => a.action === 'open').length;
}

describe('fleet messages are bound to their purpose', () => {
  const trust = TrustStore.fromDocument(trustListOf([issuer], [fleetKey.jwk()]));
  // A deny-list update whose fields also happen to fit a command and a trust-list update.
  const fitsAll = {
    ...denyListPayload({ issuer: issuer.id, seq: 7, base: 0, add: ['acct-x'], issuedAt: NOW }),
    type: 'open',
    gate: 'SEC-1',
    nonce: 'nonce-fits-all-1',
    exp: NOW + 600,
    trustList: trustListOf([issuer], [fleetKey.jwk()]),
    revoked: [],
  };

  it('opens a deny-list update only as a deny-list update: replayed as a command or a trust list it is refused', () => {
    const asDenyList = fleetKey.sign(fitsAll, { purpose: 'denylist' });
    expect(openDenyListUpdate(asDenyList, issuer.id, trust, NOW)).toMatchObject({ issuer: issuer.id, seq: 7, add: ['acct-x'] });
    const asCommand = refusal(() => openFleetCommand(asDenyList, trust, NOW));
    expect(asCommand.reason).toBe('invalid');
    expect(asCommand.detail).toMatch(/signed as "citygate-denylist", not citygate-command/);
    expect(refusal(() => openTrustUpdate(asDenyList, trust, NOW)).reason).toBe('invalid');
    expect(refusal(() => openRevocationUpdate(asDenyList, trust, NOW, 30)).reason).toBe('invalid');
  });

  it('opens a trust list, a revocation list and a command only as themselves', () => {
    const asTrust = fleetKey.sign(fitsAll, { purpose: 'trust' });
    expect(openTrustUpdate(asTrust, trust, NOW).seq).toBe(7);
    expect(refusal(() => openDenyListUpdate(asTrust, issuer.id, trust, NOW)).reason).toBe('invalid');
    expect(refusal(() => openFleetCommand(asTrust, trust, NOW)).reason).toBe('invalid');
    const asRevocations = fleetKey.sign(fitsAll, { purpose: 'revocations' });
    expect(openRevocationUpdate(asRevocations, trust, NOW, 30).seq).toBe(7);
    expect(refusal(() => openTrustUpdate(asRevocations, trust, NOW)).reason).toBe('invalid');
    const asCommand = fleetKey.sign(fitsAll, { purpose: 'command' });
    expect(openFleetCommand(asCommand, trust, NOW).type).toBe('open');
    expect(refusal(() => openDenyListUpdate(asCommand, issuer.id, trust, NOW)).reason).toBe('invalid');
  });

  it('refuses a message signed without a purpose', () => {
    const untyped = fleetKey.sign(denyListPayload({ issuer: issuer.id, seq: 1, base: 0, add: ['acct-y'] }), { untyped: true });
    const refused = refusal(() => openDenyListUpdate(untyped, issuer.id, trust, NOW));
    expect(refused.reason).toBe('invalid');
    expect(refused.detail).toMatch(/without a purpose/);
  });

  it('a gate refuses a deny-list update published on its command topic, with a log line', async () => {
    const gate = await startSyncGate({ url: broker.url, gateId: 'SEC-1', issuers: [issuer], fleet: [fleetKey] });
    gates.push(gate);
    const before = opens(gate);
    const replayed = fleetKey.sign({ ...fitsAll, exp: gate.nowSec() + 600, nonce: 'nonce-fits-all-2' }, { purpose: 'denylist' });
    expect(await command(gate, replayed)).toEqual({ nonce: null, type: null, result: 'refused', reason: 'invalid' });
    expect(opens(gate)).toBe(before);
    expect(gate.log.lines.some((l) => l.message === 'command refused' && /citygate-denylist/.test(String(l.fields.detail)))).toBe(true);
  });
});

describe('fleet keys while the clock is untrusted (finding 8)', () => {
  /** A clock a test sets: wall time, monotonic time and trust. */
  class HandClock implements Clock {
    wall = START;
    mono = 0;
    isTrusted = true;
    now = (): number => this.wall;
    monotonic = (): number => this.mono;
    trusted = (): boolean => this.isTrusted;
    setTimer(): never {
      throw new Error('no timers');
    }
  }
  const memoryStore = () => {
    const meta = new Map<string, string>();
    return { meta, metaValue: (k: string) => meta.get(k), setMetaValue: (k: string, v: string) => void meta.set(k, v) };
  };

  it('notes the trusted time and, once the clock is untrusted, takes it moved on by monotonic time, or from the journal after a restart', () => {
    const clock = new HandClock();
    const store = memoryStore();
    expect(fleetTimeOf(clock, store)).toEqual({ nowSec: NOW, trusted: true });
    expect(store.meta.get(LAST_TRUSTED_META)).toBe(String(START));
    clock.wall = START - 30 * 86_400_000; // set back a month
    clock.mono = 5_000;
    clock.isTrusted = false;
    expect(fleetTimeOf(clock, store)).toEqual({ nowSec: NOW - 30 * 86_400, trusted: false, lastTrustedSec: NOW + 5 });
    // Another process (a restart): only the journal knows.
    const restarted = new HandClock();
    restarted.wall = START - 30 * 86_400_000;
    restarted.isTrusted = false;
    expect(fleetTimeOf(restarted, store).lastTrustedSec).toBe(NOW);
    // Never trusted: nothing known, the clock is all there is.
    const fresh = new HandClock();
    fresh.isTrusted = false;
    expect(fleetTimeOf(fresh, memoryStore()).lastTrustedSec).toBeUndefined();
  });

  it('keeps the last trusted time moving without fleet messages: a gate that heard none still refuses a key retired while it ran', async () => {
    const retired = new TestFleetKey('ES256');
    const current = new TestFleetKey('EdDSA');
    const dir = mkdtempSync(join(tmpdir(), 'citygate-sec8-quiet-'));
    writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer], [retired.jwk({ exp: NOW + 3600 }), current.jwk({ nbf: NOW - 86_400 })])));
    const first = await startSyncGate({ url: broker.url, gateId: 'SEC-8Q', issuers: [issuer], fleet: [current], dir });
    gates.push(first);
    await waitFor(() => first.link.connected(), 'connected');
    // Two quiet hours on a trusted clock; the gate only publishes its status (a device came back).
    first.board.clock.advance(2 * 3_600_000);
    first.gate.reportDevice('scanner', false, 'unplugged');
    first.gate.reportDevice('scanner', true, 'back');
    await waitFor(() => Number(first.journal.metaValue(LAST_TRUSTED_META)) >= START + 2 * 3_600_000, 'the trusted time noted');
    await first.stop();
    gates.splice(gates.indexOf(first), 1);

    const gate = await startSyncGate({ url: broker.url, gateId: 'SEC-8Q', issuers: [issuer], fleet: [current], dir, startWallMs: START - 30 * 86_400_000 });
    gates.push(gate);
    gate.board.clock.setTrusted(false);
    const byRetired = await command(gate, retired.sign({ type: 'open', gate: 'SEC-8Q', nonce: 'quiet-retired-open', exp: gate.nowSec() + 60 }));
    expect(byRetired).toMatchObject({ result: 'refused', reason: 'unknown-key' });
  });

  it('after a jump back, refuses a command signed by a key retired before the last trusted time, and takes one by the current key', async () => {
    const retired = new TestFleetKey('ES256');
    const current = new TestFleetKey('EdDSA');
    const retiredAt = NOW + 3600;
    const dir = mkdtempSync(join(tmpdir(), 'citygate-sec8-'));
    writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer], [retired.jwk({ exp: retiredAt }), current.jwk({ nbf: NOW - 86_400 })])));
    const first = await startSyncGate({ url: broker.url, gateId: 'SEC-8', issuers: [issuer], fleet: [current], dir });
    gates.push(first);
    // Two hours on a trusted clock: the old key is retired, and a command tells the gate the time.
    first.board.clock.advance(2 * 3_600_000);
    const trueNow = first.nowSec();
    expect(await command(first, retired.sign({ type: 'open', gate: 'SEC-8', nonce: 'retired-open-0', exp: trueNow + 60 }))).toMatchObject({ result: 'refused', reason: 'unknown-key' });
    expect(await command(first, current.sign({ type: 'resync', gate: 'SEC-8', nonce: 'current-resync-1', exp: trueNow + 60 }))).toMatchObject({ result: 'done' });
    await first.stop();
    gates.splice(gates.indexOf(first), 1);

    // The gate restarts with its clock a month back, untrusted (no NTP, RTC lost its time).
    const gate = await startSyncGate({ url: broker.url, gateId: 'SEC-8', issuers: [issuer], fleet: [current], dir, startWallMs: START - 30 * 86_400_000 });
    gates.push(gate);
    gate.board.clock.setTrusted(false);
    const before = opens(gate);

    // The retired key, with an expiry that the wrong clock believes.
    const byRetired = await command(gate, retired.sign({ type: 'open', gate: 'SEC-8', nonce: 'retired-open-1', exp: gate.nowSec() + 60 }));
    expect(byRetired).toMatchObject({ result: 'refused', reason: 'unknown-key' });
    const line = gate.log.lines.find((l) => l.message === 'command refused' && l.fields.reason === 'unknown-key');
    expect(String(line?.fields.detail)).toMatch(/retired at .*clock untrusted: judged at the last trusted time/);
    // A command by the current key that had expired before the last trusted time (captured earlier, replayed now).
    const stale = await command(gate, current.sign({ type: 'open', gate: 'SEC-8', nonce: 'current-open-stale', exp: gate.nowSec() + 60 }));
    expect(stale).toMatchObject({ result: 'refused', reason: 'expired' });
    expect(opens(gate)).toBe(before);

    // Fleet ops still reach the gate: a fresh command by the current key is taken.
    const fresh = await command(gate, current.sign({ type: 'open', gate: 'SEC-8', nonce: 'current-open-fresh', exp: trueNow + 300 }));
    expect(fresh).toMatchObject({ result: 'done', reason: 'ok' });
    expect(opens(gate)).toBe(before + 1);
  });
});

describe('fleet watch attributes by topic (finding 7)', () => {
  class Captured implements Output {
    readonly stdout: string[] = [];
    readonly stderr: string[] = [];
    out = (line: string): void => void this.stdout.push(line);
    err = (line: string): void => void this.stderr.push(line);
  }

  it("shows a status naming another gate as a mismatch of the topic's gate, never as the other gate's", async () => {
    const rogue = await connectAsync(broker.url, { clientId: 'rogue-gate' });
    const output = new Captured();
    const stop = new AbortController();
    const statusOf = (gate: string) => `citygate/v1/gates/${gate}/status`;
    try {
      await rogue.publishAsync(statusOf('SEC-W2'), JSON.stringify({ gate: 'SEC-W2', online: true, mode: 'metro-entry' }), { qos: 1, retain: true });
      await rogue.publishAsync(statusOf('SEC-W1'), JSON.stringify({ gate: 'SEC-W2', online: false, mode: 'free', emergency: true }), { qos: 1, retain: true });
      const watching = fleetWatch({ broker: broker.url, signal: stop.signal }, output);
      const mine = () => output.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.gate === 'SEC-W1' || l.gate === 'SEC-W2' || l.payloadGate === 'SEC-W2');
      await waitFor(() => mine().length >= 2, 'both retained statuses');
      await rogue.publishAsync('citygate/v1/gates/SEC-W1/resync', JSON.stringify({ kind: 'status', gate: 'SEC-W2', issuer: issuer.id, have: 0 }), { qos: 1 });
      await waitFor(() => mine().length >= 3, 'the resync request');
      stop.abort();
      expect(await watching).toBe(0);
      const lines = mine();
      expect(lines.filter((l) => l.gate === 'SEC-W2')).toEqual([{ kind: 'status', gate: 'SEC-W2', online: true, mode: 'metro-entry' }]);
      const w1 = lines.filter((l) => l.gate === 'SEC-W1');
      expect(w1).toHaveLength(2);
      for (const line of w1) {
        expect(line).toMatchObject({ gate: 'SEC-W1', payloadGate: 'SEC-W2' });
        expect(String(line.error)).toMatch(/mismatch/);
        expect(line).not.toHaveProperty('online');
        expect(line).not.toHaveProperty('issuer');
      }
      expect(w1.map((l) => l.kind).sort()).toEqual(['resync', 'status']);
    } finally {
      stop.abort();
      await rogue.publishAsync(statusOf('SEC-W1'), '', { qos: 1, retain: true });
      await rogue.publishAsync(statusOf('SEC-W2'), '', { qos: 1, retain: true });
      await rogue.endAsync();
    }
  });
});
