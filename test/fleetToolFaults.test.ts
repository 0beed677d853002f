import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fleetCmd } from '../provisioning/fleet/fleetCmd.js';
import { fleetDeny, type FleetDenyOptions } from '../provisioning/fleet/fleetDeny.js';
import { fleetInit } from '../provisioning/fleet/fleetInit.js';
import { fleetTrust } from '../provisioning/fleet/fleetTrust.js';
import { RESERVED_ISSUERS, type Jwk } from '../src/core/credentials/trustList.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { Captured as CapturedLines } from './support/capturedOutput.js';
import { FleetClient } from './support/fleetClient.js';
import { Mosquitto } from './support/mosquitto.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';

/*
 * The four fleet-tool faults of issue 16, each walked with the real tools
 * against real gates (FleetLink, deny-list store, command handler) on a real
 * mosquitto, as fleet ops met them.
 */

const root = mkdtempSync(join(tmpdir(), 'citygate-fleet-faults-'));
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const other = new TestIssuer('sc.tianfu', 'EdDSA');
let broker: Mosquitto;
let fleet: FleetClient;
const gates: SyncGate[] = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
  fleet = await FleetClient.connect(broker.url, 'faults-observer');
  await fleet.subscribe('citygate/v1/gates/+/resync');
});
afterEach(async () => {
  for (const gate of gates.splice(0)) await gate.dispose();
});
afterAll(async () => {
  await fleet.close();
  await broker.stop();
  rmSync(root, { recursive: true, force: true });
});

class Captured extends CapturedLines {
  summary(): Record<string, unknown> {
    return JSON.parse(this.stdout.at(-1)!) as Record<string, unknown>;
  }
}

let made = 0;

/** A fleet-ops directory whose key the gates trust, and which published their trust list (issuers cq.yukuaima and sc.tianfu). */
async function opsDir(): Promise<{ dir: string; jwk: Jwk }> {
  const dir = join(root, `ops-${++made}`);
  const output = new Captured();
  expect(fleetInit({ dir }, output)).toBe(0);
  const jwk = JSON.parse(output.stdout[0]!) as Jwk;
  const file = join(dir, 'trust.json');
  writeFileSync(file, JSON.stringify(trustListOf([issuer, other], [jwk])));
  expect(await fleetTrust({ dir, file, broker: broker.url }, new Captured())).toBe(0);
  return { dir, jwk };
}

/** A gate provisioned with a trust list naming `fleetKeys` (a new unit: seq 0 for every deny list); the clock is the real one, as the tools sign with it. */
async function newGate(gateId: string, fleetKeys: Jwk[]): Promise<SyncGate> {
  const dir = mkdtempSync(join(root, `${gateId}-`));
  writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer, other], fleetKeys)));
  const gate = await startSyncGate({ url: broker.url, gateId, issuers: [issuer, other], fleet: [], dir, startWallMs: Date.now() });
  gates.push(gate);
  return gate;
}

async function reasonFor(gate: SyncGate, sub: string): Promise<string> {
  const outcome = await gate.gate.presentCode(issuer.issuerCode({ sub, iat: gate.nowSec() }));
  if (outcome.type !== 'tap') throw new Error(`no tap: ${outcome.type}`);
  return outcome.tap.reason;
}

async function deny(dir: string, options: Partial<FleetDenyOptions>, output = new Captured()): Promise<number> {
  return fleetDeny({ dir, broker: broker.url, issuer: issuer.id, ...options }, output);
}

/** The gate's deny-list log lines for this issuer whose result was `status` (applied, ignored, gap, ...). */
function results(gate: SyncGate, status: string): number {
  return gate.log.lines.filter((l) => l.message === 'deny-list update' && l.fields.issuer === issuer.id && (l.fields.result as { status: string }).status === status).length;
}

describe('fault a: a new or replacement gate gets the deny list', () => {
  it('a gate that connects after the pushes takes the whole list at once from the retained snapshot', async () => {
    const { dir, jwk } = await opsDir();
    expect(await deny(dir, { add: ['acct-lost'] })).toBe(0);
    expect(await deny(dir, { add: ['acct-stolen'] })).toBe(0);

    const gate = await newGate('NEW-1', [jwk]);
    await waitFor(() => gate.denyList.seq(issuer.id) === 2, 'the new gate at seq 2');
    expect(await reasonFor(gate, 'acct-lost')).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-stolen')).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-good')).toBe('ok');

    // The next push is a delta the gate applies; the snapshot after it is a replay it ignores.
    const output = new Captured();
    expect(await deny(dir, { add: ['acct-fraud'] }, output)).toBe(0);
    expect(output.summary()).toMatchObject({ seq: 3, gates: { online: 1, current: 1, lagging: [], ahead: [] } });
    expect(gate.denyList.seq(issuer.id)).toBe(3);
    expect(await reasonFor(gate, 'acct-fraud')).toBe('deny-listed');
    expect(results(gate, 'gap')).toBe(0);
  });

  it('a gate online at seq 0 when a delta comes (the retained list was lost with a broker restart) is current after that push, and fleet deny says so', async () => {
    const { dir, jwk } = await opsDir();
    expect(await deny(dir, { add: ['acct-1'] })).toBe(0);
    // A broker restarted without persistence keeps no retained message.
    await fleet.publish('citygate/v1/denylist/cq%2Eyukuaima', new Uint8Array(), true);
    const gate = await newGate('REPLACED-1', [jwk]);
    expect(gate.denyList.seq(issuer.id)).toBe(0);

    const output = new Captured();
    expect(await deny(dir, { add: ['acct-2'] }, output)).toBe(0);
    expect(output.summary()).toMatchObject({ seq: 2, messages: [{ seq: 2, base: 1 }, { seq: 2, base: 0, retained: true }], gates: { online: 1, current: 1 } });
    expect(results(gate, 'gap')).toBe(1);
    expect(gate.denyList.seq(issuer.id)).toBe(2);
    expect(await reasonFor(gate, 'acct-1')).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-2')).toBe('deny-listed');
  });

  it('a list in parts (not retained): fleet deny answers the lagging gate’s resync with the whole list', async () => {
    const { dir, jwk } = await opsDir();
    const csv = join(dir, 'big.csv');
    writeFileSync(csv, `${Array.from({ length: 100_001 }, (_, i) => `acct-${String(i).padStart(6, '0')}`).join('\n')}\n`);
    expect(await deny(dir, { csv: [csv] })).toBe(0);
    const gate = await newGate('REPLACED-2', [jwk]);
    expect(gate.denyList.seq(issuer.id)).toBe(0);

    const output = new Captured();
    expect(await deny(dir, { add: ['acct-new'] }, output)).toBe(0);
    expect(output.stderr.join('\n')).toMatch(/gate REPLACED-2 holds seq 0 of cq\.yukuaima and asks for a resync: sending the whole list/);
    expect(output.summary()).toMatchObject({ seq: 2, messages: [{ seq: 2, base: 1, add: 1 }], entries: 100_002, gates: { online: 1, current: 1 } });
    expect(gate.denyList.seq(issuer.id)).toBe(2);
    expect(await reasonFor(gate, 'acct-000000')).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-new')).toBe('deny-listed');
  });

  it('does not claim success when an online gate does not report the new seq: exit 1, naming it', async () => {
    const { dir, jwk } = await opsDir();
    const current = await newGate('TRUSTING-1', [jwk]);
    // This gate's trust list has another fleet key: it refuses every update of this directory.
    const { jwk: stranger } = await opsDir();
    const refusing = await newGate('STRANGER-1', [stranger]);
    const output = new Captured();
    expect(await deny(dir, { add: ['acct-x'], wait: 1 }, output)).toBe(1);
    expect(output.summary()).toMatchObject({ seq: 1, gates: { online: 2, current: 1, lagging: [{ gate: 'STRANGER-1', have: 0 }] } });
    expect(output.stderr.join('\n')).toMatch(/published seq 1, but 1 of 2 online gate\(s\) did not report it within 1 s: STRANGER-1 holds seq 0/);
    expect(current.denyList.seq(issuer.id)).toBe(1);
    expect(refusing.denyList.seq(issuer.id)).toBe(0);
  });
});

describe('fault b: --print uses up no seq', () => {
  it('a preview signs the next seq without keeping it, so the next real push is the delta every gate applies', async () => {
    const { dir, jwk } = await opsDir();
    const gate = await newGate('PRINT-1', [jwk]);
    expect(await deny(dir, { add: ['acct-a'] })).toBe(0);
    await waitFor(() => gate.denyList.seq(issuer.id) === 1, 'seq 1 at the gate');

    const preview = new Captured();
    expect(await fleetDeny({ dir, print: true, issuer: issuer.id, add: ['acct-preview'] }, preview)).toBe(0);
    expect(JSON.parse(preview.stderr.at(-1)!)).toMatchObject({ seq: 2 });
    expect(preview.stdout).toHaveLength(2);
    expect(preview.stderr.join('\n')).toMatch(/preview: nothing was recorded/);

    const output = new Captured();
    expect(await deny(dir, { add: ['acct-b'] }, output)).toBe(0);
    expect(output.summary()).toMatchObject({ seq: 2, messages: [{ seq: 2, base: 1, add: 1 }, { seq: 2, base: 0, add: 2, retained: true }], gates: { current: 1 } });
    expect(results(gate, 'gap')).toBe(0);
    expect(fleet.json('citygate/v1/gates/PRINT-1/resync')).toEqual([]);
    expect(await reasonFor(gate, 'acct-b')).toBe('deny-listed');
    expect(await reasonFor(gate, 'acct-preview')).toBe('ok');

    // A hand-over records what it prints: the next push goes on after it.
    const handOver = new Captured();
    expect(await fleetDeny({ dir, print: true, commit: true, issuer: issuer.id, add: ['acct-c'] }, handOver)).toBe(0);
    expect(JSON.parse(handOver.stderr.at(-1)!)).toMatchObject({ seq: 3 });
    const next = new Captured();
    expect(await deny(dir, { add: ['acct-d'] }, next)).toBe(0);
    // The printed seq 3 was not published by hand: the delta is a gap at the gate, which takes the whole list after it.
    expect(next.summary()).toMatchObject({ seq: 4, messages: [{ seq: 4, base: 3 }, { seq: 4, base: 0, retained: true }], gates: { current: 1 } });
    expect(results(gate, 'gap')).toBe(1);
    expect(await reasonFor(gate, 'acct-c')).toBe('deny-listed');
  });
});

describe('fault c: fleet cmd sends emergency and emergency-release', () => {
  it('holds the barrier open by command and releases it', async () => {
    const { dir, jwk } = await opsDir();
    const gate = await newGate('EMERGENCY-1', [jwk]);
    const held = new Captured();
    expect(await fleetCmd({ dir, broker: broker.url, gate: 'EMERGENCY-1', type: 'emergency' }, held)).toBe(0);
    expect(JSON.parse(held.stdout[0]!)).toMatchObject({ type: 'emergency', result: 'done' });
    expect(gate.gate.emergency()).toBe(true);
    const released = new Captured();
    expect(await fleetCmd({ dir, broker: broker.url, gate: 'EMERGENCY-1', type: 'emergency-release' }, released)).toBe(0);
    expect(JSON.parse(released.stdout[0]!)).toMatchObject({ type: 'emergency-release', result: 'done' });
    expect(gate.gate.emergency()).toBe(false);
  });
});

describe('fault d: an issuer nobody trusts is refused', () => {
  it('refuses a typo, listing the issuers the trust list names; --force publishes it with a note', async () => {
    const { dir } = await opsDir();
    const known = ['cq.yukuaima', 'sc.tianfu', ...RESERVED_ISSUERS].join(', ');
    await expect(deny(dir, { issuer: 'cq.yukuiama', add: ['acct-1'] })).rejects.toThrow(
      `--issuer "cq.yukuiama": not an issuer of the trust list published from ${dir}; known: ${known}. Gates consult deny lists of trusted issuers only; give --force to publish anyway`,
    );
    const forced = new Captured();
    expect(await deny(dir, { issuer: 'cq.yukuiama', add: ['acct-1'], force: true }, forced)).toBe(0);
    expect(forced.stderr.join('\n')).toMatch(/note: --issuer "cq\.yukuiama": not an issuer .*publishing anyway \(--force\)/);
    // UID cards and bank cards have deny lists without an issuer in the trust list.
    expect(await deny(dir, { issuer: 'emv', add: ['token-1'] })).toBe(0);
  });

  it('refuses when the directory never published a trust list, saying how to publish one', async () => {
    const dir = join(root, 'ops-no-trust');
    expect(fleetInit({ dir }, new Captured())).toBe(0);
    await expect(deny(dir, { add: ['acct-1'] })).rejects.toThrow(/no trust list was published from .*ops-no-trust.*citygate fleet trust --dir/);
  });
});
