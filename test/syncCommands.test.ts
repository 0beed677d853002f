import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { FleetClient, type CommandResult } from './support/fleetClient.js';
import { commandPayload, denyListPayload, signWith, TestFleetKey, trustUpdatePayload, type CommandFields } from './support/fleetSigner.js';
import { Mosquitto } from './support/mosquitto.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const newcomer = new TestIssuer('bus.newcomer', 'EdDSA');
const fleetKey = new TestFleetKey('ES256');

let broker: Mosquitto;
let fleet: FleetClient;
const gates: SyncGate[] = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
  fleet = await FleetClient.connect(broker.url, 'fleet-ops');
  await fleet.subscribe('citygate/v1/gates/+/cmd/result');
  await fleet.subscribe('citygate/v1/gates/+/resync');
});
afterEach(async () => {
  for (const gate of gates.splice(0)) await gate.dispose();
});
afterAll(async () => {
  await fleet.close();
  await broker.stop();
});

async function syncGate(gateId: string, url = broker.url): Promise<SyncGate> {
  const gate = await startSyncGate({ url, gateId, issuers: [issuer], fleet: [fleetKey] });
  gates.push(gate);
  await waitFor(() => gate.link.connected(), `${gateId} connected`);
  return gate;
}

async function restart(gate: SyncGate): Promise<SyncGate> {
  const restarted = await gate.restart();
  gates.splice(gates.indexOf(gate), 1, restarted);
  await waitFor(() => restarted.link.connected(), `${gate.gateId} reconnected`);
  return restarted;
}

let sent = 0;
/** Publish a command and wait for its result on cmd/result (the n-th result of that gate). */
async function command(gate: SyncGate, bytes: Uint8Array): Promise<CommandResult> {
  const topic = `citygate/v1/gates/${gate.gateId}/cmd/result`;
  const before = fleet.json(topic).length;
  sent++;
  await fleet.publish(`citygate/v1/gates/${gate.gateId}/cmd`, bytes);
  await waitFor(() => fleet.json(topic).length > before, `result of command ${sent}`);
  return fleet.json<CommandResult>(topic)[before]!;
}

function signed(gate: SyncGate, fields: Omit<CommandFields, 'gate' | 'exp'> & { gate?: string; exp?: number }, key = fleetKey): Uint8Array {
  return key.sign(commandPayload({ gate: gate.gateId, exp: gate.nowSec() + 120, ...fields }));
}

async function codeReason(gate: SyncGate, from: TestIssuer, sub: string): Promise<string> {
  const outcome = await gate.gate.presentCode(from.issuerCode({ sub, iat: gate.nowSec() }));
  if (outcome.type !== 'tap') throw new Error(`no tap: ${outcome.type}`);
  return outcome.tap.reason;
}

describe('signed commands', () => {
  it('open lets exactly one passenger through', async () => {
    const gate = await syncGate('CMD-1');
    const opensBefore = gate.board.barrier.actions.filter((a) => a.action === 'open').length;
    const result = await command(gate, signed(gate, { type: 'open', nonce: 'open-nonce-1' }));
    expect(result).toEqual({ nonce: 'open-nonce-1', type: 'open', result: 'done', reason: 'ok' });
    expect(gate.board.barrier.state()).toBe('open');
    expect(gate.board.barrier.actions.filter((a) => a.action === 'open').length).toBe(opensBefore + 1);
    gate.board.passage.pass();
    expect(gate.board.barrier.state()).toBe('closed');
    // Nobody else: a second passage is a tailgate, not a free ride.
    const alarms: string[] = [];
    gate.gate.onAlarm((alarm) => alarms.push(alarm.type));
    gate.board.passage.pass();
    expect(alarms).toEqual(['tailgate']);
    expect(gate.board.barrier.state()).toBe('closed');
  });

  it('set-mode changes the mode recorded on the next tap and in the status', async () => {
    const gate = await syncGate('CMD-2');
    expect(await codeReason(gate, issuer, 'acct-1')).toBe('ok');
    const result = await command(gate, signed(gate, { type: 'set-mode', mode: 'metro-exit' }));
    expect(result.result).toBe('done');
    const outcome = await gate.gate.presentCode(issuer.issuerCode({ sub: 'acct-2', iat: gate.nowSec() }));
    expect(outcome.type === 'tap' && outcome.tap.mode).toBe('metro-exit');
    expect(gate.link.status().mode).toBe('metro-exit');
    expect(await command(gate, signed(gate, { type: 'set-mode', mode: 'teleport' }))).toMatchObject({ result: 'refused', reason: 'invalid' });
    expect(gate.gate.mode()).toBe('metro-exit');
    expect(gate.commandedModes).toEqual(['metro-exit']);
  });

  it('resync asks the fleet for one issuer or for every issuer held', async () => {
    const gate = await syncGate('CMD-3');
    await fleet.publish(`citygate/v1/denylist/${issuer.id}`, fleetKey.sign(denyListPayload({ issuer: issuer.id, seq: 4, base: 0, add: ['x'] })));
    await fleet.publish('citygate/v1/denylist/other.issuer', fleetKey.sign(denyListPayload({ issuer: 'other.issuer', seq: 9, base: 0, add: ['y'] })));
    await waitFor(() => Object.keys(gate.denyList.seqs()).length === 2, 'two issuers held');
    const topic = 'citygate/v1/gates/CMD-3/resync';

    expect((await command(gate, signed(gate, { type: 'resync', issuer: issuer.id }))).result).toBe('done');
    await waitFor(() => fleet.json(topic).length === 1, 'one resync request');
    expect(fleet.json(topic)[0]).toEqual({ gate: 'CMD-3', issuer: issuer.id, have: 4 });

    expect((await command(gate, signed(gate, { type: 'resync' }))).result).toBe('done');
    await waitFor(() => fleet.json(topic).length === 3, 'a resync request per issuer');
    expect(fleet.json(topic).slice(1).sort((a, b) => String(a.issuer).localeCompare(String(b.issuer)))).toEqual([
      { gate: 'CMD-3', issuer: issuer.id, have: 4 },
      { gate: 'CMD-3', issuer: 'other.issuer', have: 9 },
    ]);
  });

  it('refuses unsigned, foreign-key, expired, misaddressed and replayed commands, replays also after a restart', async () => {
    let gate = await syncGate('CMD-4');
    const opens = () => gate.board.barrier.actions.filter((a) => a.action === 'open').length;
    const opensBefore = opens();

    const plain = Buffer.from(JSON.stringify(commandPayload({ type: 'open', gate: gate.gateId, exp: gate.nowSec() + 60 })));
    expect(await command(gate, plain)).toEqual({ nonce: null, type: null, result: 'refused', reason: 'malformed' });
    expect(await command(gate, Buffer.from([0xff, 0x00, 0x13]))).toMatchObject({ result: 'refused', reason: 'malformed' });
    const byIssuer = signWith(issuer.key, issuer.kid, commandPayload({ type: 'open', gate: gate.gateId, exp: gate.nowSec() + 60 }));
    expect(await command(gate, byIssuer)).toMatchObject({ result: 'refused', reason: 'unknown-key' });
    expect(await command(gate, signed(gate, { type: 'open' }, fleetKey.impostor()))).toMatchObject({ result: 'refused', reason: 'bad-signature' });
    // exp 60 s ago: past the 30 s of clock skew the gate forgives.
    expect(await command(gate, signed(gate, { type: 'open', nonce: 'expired-nonce', exp: gate.nowSec() - 60 }))).toEqual({ nonce: 'expired-nonce', type: 'open', result: 'refused', reason: 'expired' });
    expect(await command(gate, signed(gate, { type: 'open', gate: 'CMD-OTHER' }))).toMatchObject({ result: 'refused', reason: 'wrong-gate' });
    expect(opens()).toBe(opensBefore);

    const once = signed(gate, { type: 'set-mode', mode: 'venue', nonce: new Uint8Array(16).fill(7) });
    expect(await command(gate, once)).toMatchObject({ result: 'done', nonce: '07'.repeat(16) });
    gate.gate.setMode('bus');
    expect(await command(gate, once)).toMatchObject({ result: 'refused', reason: 'replayed' });
    expect(gate.gate.mode()).toBe('bus');

    gate = await restart(gate);
    gate.gate.setMode('bus');
    expect(await command(gate, once)).toMatchObject({ result: 'refused', reason: 'replayed' });
    expect(gate.gate.mode()).toBe('bus');
    expect(gate.log.has('command refused', { reason: 'replayed' })).toBe(true);
  });

  it('reload-trust reads the trust file again', async () => {
    const gate = await syncGate('CMD-5');
    expect(await codeReason(gate, newcomer, 'acct-n')).toBe('unknown-issuer');
    writeFileSync(join(gate.dir, 'trust.json'), JSON.stringify(trustListOf([issuer, newcomer], [fleetKey.jwk()])));
    expect((await command(gate, signed(gate, { type: 'reload-trust' }))).result).toBe('done');
    expect(await codeReason(gate, newcomer, 'acct-n')).toBe('ok');
  });
});

describe('trust-list updates', () => {
  // Its own broker: the trust topic is retained and would reach the other tests' gates.
  let trustBroker: Mosquitto;
  let ops: FleetClient;
  beforeAll(async () => {
    trustBroker = await Mosquitto.start();
    ops = await FleetClient.connect(trustBroker.url, 'trust-ops');
    await ops.subscribe('citygate/v1/gates/+/cmd/result');
  });
  afterAll(async () => {
    await ops.close();
    await trustBroker.stop();
  });

  const refusedTrust = (gate: SyncGate, reason: string) => gate.log.lines.filter((l) => l.message === 'trust-list update refused' && l.fields.reason === reason).length;

  it('adds an issuer without a restart, ignores older and unsigned updates, and follows a fleet-key rotation', async () => {
    const gate = await syncGate('TRUST-1', trustBroker.url);
    expect(await codeReason(gate, newcomer, 'acct-n')).toBe('unknown-issuer');

    await ops.publish('citygate/v1/trust', fleetKey.sign(trustUpdatePayload(2, trustListOf([issuer, newcomer], [fleetKey.jwk()]))), true);
    await waitFor(() => gate.trust.seq() === 2, 'trust list seq 2 in force');
    expect(await codeReason(gate, newcomer, 'acct-n')).toBe('ok');
    expect(JSON.parse(readFileSync(join(gate.dir, 'trust.json'), 'utf8')).issuers.map((i: { id: string }) => i.id)).toEqual([issuer.id, newcomer.id]);
    expect(gate.link.status().trustListSeq).toBe(2);

    // Older: would drop the newcomer.
    await ops.publish('citygate/v1/trust', fleetKey.sign(trustUpdatePayload(1, trustListOf([issuer], [fleetKey.jwk()]))));
    await waitFor(() => gate.log.count('trust-list update ignored: older than the one in force') === 1, 'older update ignored');
    await ops.publish('citygate/v1/trust', Buffer.from(JSON.stringify(trustUpdatePayload(9, trustListOf([issuer], [fleetKey.jwk()])))));
    await waitFor(() => refusedTrust(gate, 'malformed') === 1, 'unsigned update refused');
    await ops.publish('citygate/v1/trust', signWith(issuer.key, issuer.kid, trustUpdatePayload(9, trustListOf([issuer], [fleetKey.jwk()]))));
    await waitFor(() => refusedTrust(gate, 'unknown-key') === 1, 'issuer-signed update refused');
    expect(gate.trust.seq()).toBe(2);
    expect(await codeReason(gate, newcomer, 'acct-n')).toBe('ok');

    // Rotation: the old fleet key signs the list that replaces it.
    const rotated = new TestFleetKey('EdDSA');
    await ops.publish('citygate/v1/trust', fleetKey.sign(trustUpdatePayload(3, trustListOf([issuer, newcomer], [rotated.jwk()]))), true);
    await waitFor(() => gate.trust.seq() === 3, 'trust list seq 3 in force');
    const topic = 'citygate/v1/gates/TRUST-1/cmd/result';
    await ops.publish('citygate/v1/gates/TRUST-1/cmd', signed(gate, { type: 'open', nonce: 'old-key-nonce' }));
    await ops.publish('citygate/v1/gates/TRUST-1/cmd', signed(gate, { type: 'open', nonce: 'new-key-nonce' }, rotated));
    await waitFor(() => ops.json(topic).length === 2, 'both commands answered');
    expect(ops.json<CommandResult>(topic).map((r) => [r.result, r.reason])).toEqual([
      ['refused', 'unknown-key'],
      ['done', 'ok'],
    ]);
    await ops.publish('citygate/v1/trust', fleetKey.sign(trustUpdatePayload(4, trustListOf([issuer], [fleetKey.jwk()]))));
    await waitFor(() => refusedTrust(gate, 'unknown-key') === 2, 'update signed by the retired fleet key refused');
    expect(gate.trust.seq()).toBe(3);

    // The update is retained: a gate that was not there gets it on connect; a restart keeps it.
    const late = await syncGate('TRUST-2', trustBroker.url);
    await waitFor(() => late.trust.seq() === 3, 'the retained update applied by a late gate');
    expect(await codeReason(late, newcomer, 'acct-n')).toBe('ok');
    const again = await restart(late);
    expect(again.trust.seq()).toBe(3);
    expect(await codeReason(again, newcomer, 'acct-n')).toBe('ok');
  });
});
