import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer } from '../sim/issuer.js';
import { FleetClient } from './support/fleetClient.js';
import { denyListPayload, signWith, tampered, TestFleetKey, type DenyListFields } from './support/fleetSigner.js';
import { Mosquitto } from './support/mosquitto.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const other = new TestIssuer('metro.other', 'EdDSA');
const fleetKey = new TestFleetKey('ES256');
const TOPIC = `citygate/v1/denylist/${issuer.id}`;

let broker: Mosquitto;
let fleet: FleetClient;
const gates: SyncGate[] = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
  fleet = await FleetClient.connect(broker.url, 'fleet-ops');
  await fleet.subscribe('citygate/v1/gates/+/resync');
});
afterEach(async () => {
  for (const gate of gates.splice(0)) await gate.dispose();
});
afterAll(async () => {
  await fleet.close();
  await broker.stop();
});

async function syncGate(gateId: string): Promise<SyncGate> {
  const gate = await startSyncGate({ url: broker.url, gateId, issuers: [issuer, other], fleet: [fleetKey] });
  gates.push(gate);
  await waitFor(() => gate.link.connected(), `${gateId} connected`);
  return gate;
}

/** The reason the gate gives for a fresh code of `sub` (optionally with a chosen cti). */
async function reasonFor(gate: SyncGate, sub: string, cti?: Uint8Array): Promise<string> {
  const outcome = await gate.gate.presentCode(issuer.issuerCode({ sub, iat: gate.nowSec(), ...(cti ? { cti } : {}) }));
  if (outcome.type !== 'tap') throw new Error(`no tap: ${outcome.type}`);
  return outcome.tap.reason;
}

function send(fields: DenyListFields, options: { encoding?: 'cbor' | 'json'; tagged?: boolean } = {}): Promise<void> {
  return fleet.publish(`citygate/v1/denylist/${fields.issuer}`, fleetKey.sign(denyListPayload(fields), options));
}

/** Deny-list log lines of the gate whose result (or refusal reason) is `status`. */
function handled(gate: SyncGate, status: string): number {
  return gate.log.lines.filter(
    (l) => (l.message === 'deny-list update' && (l.fields.result as { status: string }).status === status) || (l.message === 'deny-list update refused' && l.fields.reason === status),
  ).length;
}

describe('deny-list updates', () => {
  it('applies signed snapshots and deltas (CBOR and JSON payloads, tagged and untagged) so listed subjects and code ids are refused', async () => {
    const gate = await syncGate('DENY-1');
    const cti = randomBytes(16);
    expect(await reasonFor(gate, 'acct-bad')).toBe('ok');

    await send({ issuer: issuer.id, seq: 1, base: 0, add: ['acct-bad', `cti:${cti.toString('hex')}`] });
    await waitFor(() => gate.denyList.seq(issuer.id) === 1, 'snapshot seq 1 applied');
    expect(await reasonFor(gate, 'acct-bad')).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-good', cti)).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-good')).toBe('ok');

    await send({ issuer: issuer.id, seq: 2, base: 1, add: ['acct-new'], remove: ['acct-bad'] }, { encoding: 'json', tagged: false });
    await waitFor(() => gate.denyList.seq(issuer.id) === 2, 'delta seq 2 applied');
    expect(await reasonFor(gate, 'acct-new')).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-bad')).toBe('ok');
    expect(gate.link.status().denyList).toEqual({ [issuer.id]: 2 });
  });

  it('ignores tampered, wrongly keyed, misaddressed, replayed and rolled-back updates', async () => {
    const gate = await syncGate('DENY-2');
    await send({ issuer: issuer.id, seq: 1, base: 0, add: ['acct-a'] });
    const seq2 = fleetKey.sign(denyListPayload({ issuer: issuer.id, seq: 2, base: 1, add: ['acct-b'] }));
    await fleet.publish(TOPIC, seq2);
    await send({ issuer: issuer.id, seq: 3, base: 2, remove: ['acct-b'] });
    await waitFor(() => gate.denyList.seq(issuer.id) === 3, 'seq 3 applied');

    await fleet.publish(TOPIC, tampered(fleetKey.sign(denyListPayload({ issuer: issuer.id, seq: 4, base: 3, add: ['acct-t'] }))));
    await waitFor(() => handled(gate, 'bad-signature') === 1, 'tampered update refused');
    await fleet.publish(TOPIC, fleetKey.impostor().sign(denyListPayload({ issuer: issuer.id, seq: 4, base: 3, add: ['acct-t'] })));
    await waitFor(() => handled(gate, 'bad-signature') === 2, 'impostor update refused');
    // An issuer key is not a fleet-ops key, even for its own deny list.
    await fleet.publish(TOPIC, signWith(issuer.key, issuer.kid, denyListPayload({ issuer: issuer.id, seq: 4, base: 3, add: ['acct-t'] })));
    await waitFor(() => handled(gate, 'unknown-key') === 1, 'issuer-signed update refused');
    await fleet.publish(TOPIC, Buffer.from(JSON.stringify(denyListPayload({ issuer: issuer.id, seq: 4, base: 3, add: ['acct-t'] }))));
    await waitFor(() => handled(gate, 'malformed') === 1, 'unsigned update refused');
    // Signed for another issuer's list, sent on this issuer's topic.
    await fleet.publish(TOPIC, fleetKey.sign(denyListPayload({ issuer: other.id, seq: 1, base: 0, add: ['acct-t'] })));
    await waitFor(() => handled(gate, 'invalid') === 1, 'misaddressed update refused');

    await fleet.publish(TOPIC, seq2);
    await waitFor(() => handled(gate, 'ignored') === 1, 'replayed seq 2 ignored');
    await send({ issuer: issuer.id, seq: 2, base: 1, add: ['acct-r'] });
    await waitFor(() => handled(gate, 'ignored') === 2, 'rolled-back seq 2 ignored');
    await send({ issuer: issuer.id, seq: 1, base: 0, add: ['acct-r'] });
    await waitFor(() => handled(gate, 'ignored') === 3, 'rolled-back snapshot ignored');

    expect(gate.denyList.seqs()).toEqual({ [issuer.id]: 3 });
    expect(await reasonFor(gate, 'acct-a')).toBe('deny-listed');
    for (const sub of ['acct-b', 'acct-t', 'acct-r']) expect(await reasonFor(gate, sub)).toBe('ok');
    expect(gate.link.connected()).toBe(true);
  });

  it('asks for a resync on a gap and applies nothing of the update past it', async () => {
    const gate = await syncGate('DENY-3');
    await send({ issuer: issuer.id, seq: 1, base: 0, add: ['acct-a'] });
    await send({ issuer: issuer.id, seq: 2, base: 1, add: ['acct-b'] });
    await waitFor(() => gate.denyList.seq(issuer.id) === 2, 'seq 2 applied');
    await send({ issuer: issuer.id, seq: 5, base: 4, add: ['acct-gap'] });
    const request = await fleet.next(`citygate/v1/gates/DENY-3/resync`, () => true, 'a resync request');
    expect(request).toEqual({ gate: 'DENY-3', issuer: issuer.id, have: 2, saw: { seq: 5, base: 4 } });
    expect(gate.denyList.seq(issuer.id)).toBe(2);
    expect(await reasonFor(gate, 'acct-gap')).toBe('ok');
    // The fleet answers with a snapshot: the gate is back in step.
    await send({ issuer: issuer.id, seq: 5, base: 0, add: ['acct-gap'] });
    await waitFor(() => gate.denyList.seq(issuer.id) === 5, 'resync snapshot applied');
    expect(await reasonFor(gate, 'acct-gap')).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-a')).toBe('ok');
  });

  it('applies a snapshot in parts only once every part is in, keeping the old list until then', async () => {
    const gate = await syncGate('DENY-4');
    await send({ issuer: issuer.id, seq: 1, base: 0, add: ['acct-old'] });
    await waitFor(() => gate.denyList.seq(issuer.id) === 1, 'seq 1 applied');
    const parts = [['acct-p1a', 'acct-p1b'], ['acct-p2'], ['acct-p3']];
    await send({ issuer: issuer.id, seq: 7, base: 0, add: parts[0], part: 1, parts: 3 });
    await send({ issuer: issuer.id, seq: 7, base: 0, add: parts[2], part: 3, parts: 3 });
    await waitFor(() => handled(gate, 'staged') === 2, 'two parts staged');
    expect(gate.denyList.seq(issuer.id)).toBe(1);
    expect(await reasonFor(gate, 'acct-old')).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-p1a')).toBe('ok');

    await send({ issuer: issuer.id, seq: 7, base: 0, add: parts[1], part: 2, parts: 3 });
    await waitFor(() => gate.denyList.seq(issuer.id) === 7, 'snapshot seq 7 applied');
    for (const sub of parts.flat()) expect(await reasonFor(gate, sub)).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-old')).toBe('ok');
  });

  it('receives an update published while it was off once it is back (persistent session)', async () => {
    let gate = await syncGate('DENY-5');
    await send({ issuer: issuer.id, seq: 1, base: 0, add: ['acct-a'] });
    await waitFor(() => gate.denyList.seq(issuer.id) === 1, 'seq 1 applied');
    await gate.stop();
    await send({ issuer: issuer.id, seq: 2, base: 1, add: ['acct-while-off'] });
    const restarted = await gate.restart();
    gates.splice(gates.indexOf(gate), 1, restarted);
    gate = restarted;
    await waitFor(() => gate.denyList.seq(issuer.id) === 2, 'the update queued by the broker arrived after the restart');
    expect(await reasonFor(gate, 'acct-while-off')).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-a')).toBe('deny-listed');
  });
});
