import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fleetInit } from '../provisioning/fleet/fleetInit.js';
import { fleetRevoke, HELD_LIST_FILE, type FleetRevokeOptions } from '../provisioning/fleet/fleetRevoke.js';
import { gateStatus } from '../provisioning/status.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { RevocationFile, REVOCATIONS_FILE } from '../src/app/revocationFile.js';
import { InputError } from '../src/app/settingsSchema.js';
import { RevocationList } from '../src/core/credentials/emv/revocationList.js';
import type { Jwk } from '../src/core/credentials/trustList.js';
import { DEFAULT_TIMINGS } from '../src/core/settings.js';
import { FleetLink } from '../src/core/sync/fleetLink.js';
import { Captured } from './support/capturedOutput.js';
import { FleetClient } from './support/fleetClient.js';
import { signWith, tampered, TestFleetKey } from './support/fleetSigner.js';
import { Mosquitto } from './support/mosquitto.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';

/*
 * The bank-card revocation list over MQTT: a real mosquitto, a simulated gate
 * of the sync harness whose fleet link holds a RevocationFile in the gate's
 * directory, and the fleet's messages signed by the test's own signer (and,
 * at the end, by `citygate fleet revoke`).
 */

const TOPIC = 'citygate/v1/revocations';
const UNIONPAY = 'A000000333';
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const fleetKey = new TestFleetKey('ES256');

/** A gate of the sync harness whose link also holds the revocation list, and what the decider was handed. */
interface RevocationGate {
  base: SyncGate;
  link: FleetLink;
  file: RevocationFile;
  /** The list the decider holds now. */
  inForce(): RevocationList;
  /** How many lists the decider was handed. */
  handed(): number;
  restart(): Promise<RevocationGate>;
  dispose(): Promise<void>;
}

let broker: Mosquitto;
let ops: FleetClient;
const gates: RevocationGate[] = [];

beforeEach(async () => {
  // A broker per test: the topic is retained.
  broker = await Mosquitto.start();
  ops = await FleetClient.connect(broker.url, 'revocation-ops');
  await ops.subscribe('citygate/v1/gates/+/status');
});
afterEach(async () => {
  for (const gate of gates.splice(0)) await gate.dispose();
  await ops.close();
  await broker.stop();
});

const liveOnline = (gateId: string) => ops.received.filter((m) => m.topic === `citygate/v1/gates/${gateId}/status` && !m.retain && (JSON.parse(m.payload.toString('utf8')) as { online: boolean }).online).length;

/**
 * The harness's link has no revocation holder yet: replace it, on the same
 * gate and client id, by one that has, and wait until it is subscribed (it
 * publishes its online status after subscribing).
 */
async function withRevocations(base: SyncGate): Promise<RevocationGate> {
  await base.link.stop();
  let inForce = RevocationList.EMPTY;
  let handed = 0;
  const file = new RevocationFile(join(base.dir, REVOCATIONS_FILE), {
    setRevocations(list) {
      inForce = list;
      handed++;
    },
  });
  const online = liveOnline(base.gateId);
  const link = new FleetLink(
    { ...base, revocations: file, clock: base.board.clock, site: base.options.site ?? 'site-a', skewSec: DEFAULT_TIMINGS.skewSec, version: '0.1.0-test', onModeCommand: () => undefined },
    { url: base.options.url, maxBackoffMs: 1_000 },
  );
  link.start();
  await waitFor(() => liveOnline(base.gateId) > online, `${base.gateId} subscribed with its revocation list`);
  const gate: RevocationGate = {
    base,
    link,
    file,
    inForce: () => inForce,
    handed: () => handed,
    async restart() {
      await link.stop();
      const again = await withRevocations(await base.restart());
      gates.splice(gates.indexOf(gate), 1, again);
      return again;
    },
    async dispose() {
      await link.stop();
      await base.dispose();
    },
  };
  return gate;
}

async function revocationGate(gateId: string, dir?: string): Promise<RevocationGate> {
  const gate = await withRevocations(await startSyncGate({ url: broker.url, gateId, issuers: [issuer], fleet: [fleetKey], ...(dir ? { dir } : {}) }));
  gates.push(gate);
  return gate;
}

interface Entry {
  rid: string;
  index: string;
  serial: string;
}

const entry = (index: string, serial: string): Entry => ({ rid: UNIONPAY, index, serial });

function payload(gate: RevocationGate, seq: number, revoked: Entry[], exp = gate.base.nowSec() + 86_400): Record<string, unknown> {
  return { seq, issuedAt: gate.base.nowSec(), exp, revoked };
}

const lines = (gate: RevocationGate, message: string) => gate.base.log.lines.filter((l) => l.message === message);
const refused = (gate: RevocationGate, reason: string) => lines(gate, 'revocation-list update refused').filter((l) => l.fields.reason === reason);

describe('revocation-list updates from the fleet', () => {
  it('puts a signed list in force at once, keeps it across a restart and shows its seq in the status', async () => {
    let gate = await revocationGate('REV-1');
    expect(gate.file.seq()).toBe(0);
    expect(gate.inForce()).toBe(RevocationList.EMPTY);
    expect(gate.link.status().revocationSeq).toBe(0);

    await ops.publish(TOPIC, fleetKey.sign(payload(gate, 1, [entry('03', '00012F'), entry('0B', '123456')])), true);
    await waitFor(() => gate.file.seq() === 1, 'list seq 1 in force');
    expect(gate.inForce().isRevoked(UNIONPAY, '03', '00012f')).toBe(true);
    expect(gate.inForce().isRevoked(UNIONPAY, '0B', '123456')).toBe(true);
    expect(gate.link.status().revocationSeq).toBe(1);
    expect(lines(gate, 'revocation list updated').map((l) => [l.fields.seq, l.fields.entries])).toEqual([[1, 2]]);
    await ops.next(`citygate/v1/gates/REV-1/status`, (s: { revocationSeq?: number }) => s.revocationSeq === 1, 'the status published with revocationSeq 1');

    // The next list replaces it whole; JSON payloads are read as CBOR ones are.
    const next = payload(gate, 2, [entry('0b', '123456'), entry('04', 'ABCDEF')]);
    await ops.publish(TOPIC, fleetKey.sign(next, { encoding: 'json' }), true);
    await waitFor(() => gate.file.seq() === 2, 'list seq 2 in force');
    expect(gate.inForce().isRevoked(UNIONPAY, '03', '00012F')).toBe(false);
    expect(gate.inForce().isRevoked(UNIONPAY, '0B', '123456')).toBe(true);
    expect(gate.inForce().isRevoked(UNIONPAY, '04', 'ABCDEF')).toBe(true);
    const saved = JSON.parse(readFileSync(join(gate.base.dir, REVOCATIONS_FILE), 'utf8')) as Record<string, unknown>;
    expect(saved).toEqual({ ...next, revoked: [entry('0B', '123456'), entry('04', 'ABCDEF')] });

    // After a restart the list comes from the file, before the broker is heard: the retained seq 2 is then already in force.
    gate = await gate.restart();
    expect(gate.handed()).toBe(1);
    expect(gate.file.seq()).toBe(2);
    expect(gate.inForce().isRevoked(UNIONPAY, '04', 'ABCDEF')).toBe(true);
    await waitFor(() => lines(gate, 'revocation-list update ignored: already in force').length === 1, 'the retained list seen again');
    expect(lines(gate, 'revocation list updated')).toEqual([]);
    expect(gate.handed()).toBe(1);

    // A gate that was not there takes the retained list when it connects.
    const late = await revocationGate('REV-2');
    await waitFor(() => late.file.seq() === 2, 'the retained list applied by a late gate');
    expect(late.inForce().entries).toEqual(gate.inForce().entries);
  });

  it('refuses unsigned, tampered, foreign, replayed, rolled-back, expired and malformed updates with a log line each', async () => {
    const gate = await revocationGate('REV-3');
    const good = fleetKey.sign(payload(gate, 5, [entry('03', '000001')]));
    await ops.publish(TOPIC, good, true);
    await waitFor(() => gate.file.seq() === 5, 'list seq 5 in force');
    const onDisk = readFileSync(join(gate.base.dir, REVOCATIONS_FILE), 'utf8');
    const all = [entry('03', '000001'), entry('03', '000002')];

    await ops.publish(TOPIC, Buffer.from(JSON.stringify(payload(gate, 6, all))));
    await waitFor(() => refused(gate, 'malformed').length === 1, 'unsigned update refused');
    await ops.publish(TOPIC, tampered(fleetKey.sign(payload(gate, 6, all))));
    await waitFor(() => refused(gate, 'bad-signature').length === 1, 'tampered update refused');
    await ops.publish(TOPIC, fleetKey.impostor().sign(payload(gate, 6, all)));
    await waitFor(() => refused(gate, 'bad-signature').length === 2, 'update signed by a forger with the fleet kid refused');
    await ops.publish(TOPIC, signWith(issuer.key, issuer.kid, payload(gate, 6, all)));
    await waitFor(() => refused(gate, 'unknown-key').length === 1, 'issuer-signed update refused');
    await ops.publish(TOPIC, good);
    await waitFor(() => lines(gate, 'revocation-list update ignored: already in force').length === 1, 'replayed update ignored');
    await ops.publish(TOPIC, fleetKey.sign(payload(gate, 4, [])));
    await waitFor(() => lines(gate, 'revocation-list update ignored: older than the one in force').length === 1, 'rolled-back update ignored');
    expect(lines(gate, 'revocation-list update ignored: older than the one in force')[0]!.fields).toEqual({ seq: 4, held: 5 });
    // Expired beyond the gate's clock skew.
    await ops.publish(TOPIC, fleetKey.sign(payload(gate, 6, all, gate.base.nowSec() - DEFAULT_TIMINGS.skewSec - 1)));
    await waitFor(() => refused(gate, 'invalid').length === 1, 'expired update refused');
    expect(refused(gate, 'invalid')[0]!.fields.detail).toMatch(/^invalid: revocation-list update 6: expired at 2026-/);
    await ops.publish(TOPIC, fleetKey.sign(payload(gate, 6, [...all, { ...entry('03', '000003'), rid: 'A0000003' }])));
    await waitFor(() => refused(gate, 'invalid').length === 2, 'update with a bad entry refused');
    expect(refused(gate, 'invalid')[1]!.fields.detail).toBe('invalid: revocation-list update 6: revoked[2].rid: expected 10 hex digits, got "A0000003"');
    await ops.publish(TOPIC, fleetKey.sign({ ...payload(gate, 6, all), seq: 0 }));
    await waitFor(() => refused(gate, 'invalid').length === 3, 'update with seq 0 refused');

    expect(gate.file.seq()).toBe(5);
    expect(gate.inForce().isRevoked(UNIONPAY, '03', '000002')).toBe(false);
    expect(readFileSync(join(gate.base.dir, REVOCATIONS_FILE), 'utf8')).toBe(onDisk);
    expect(gate.handed()).toBe(2);
    // Still within the skew: taken. And the gate is not stuck: the next good update applies.
    await ops.publish(TOPIC, fleetKey.sign(payload(gate, 6, all, gate.base.nowSec() - DEFAULT_TIMINGS.skewSec + 5)));
    await waitFor(() => gate.file.seq() === 6, 'list seq 6 in force');
    expect(gate.inForce().isRevoked(UNIONPAY, '03', '000002')).toBe(true);
  });

  it('keeps the list in force after its message expired, and refuses an older list across a restart', async () => {
    let gate = await revocationGate('REV-4');
    const exp = gate.base.nowSec() + 60;
    await ops.publish(TOPIC, fleetKey.sign(payload(gate, 3, [entry('03', '0000AA')], exp)));
    await waitFor(() => gate.file.seq() === 3, 'list seq 3 in force');
    gate.base.board.clock.advance(3_600_000);
    gate = await gate.restart();
    expect(gate.base.nowSec()).toBeGreaterThan(exp + DEFAULT_TIMINGS.skewSec);
    expect(gate.inForce().isRevoked(UNIONPAY, '03', '0000AA')).toBe(true);
    await ops.publish(TOPIC, fleetKey.sign(payload(gate, 2, [])));
    await waitFor(() => lines(gate, 'revocation-list update ignored: older than the one in force').length === 1, 'older list ignored after the restart');
    expect(gate.inForce().isRevoked(UNIONPAY, '03', '0000AA')).toBe(true);
  });

  it('puts a list in force even when the disk will not keep it, and says so', async () => {
    const gate = await revocationGate('REV-6');
    // The atomic write's temporary file cannot be created.
    mkdirSync(join(gate.base.dir, `${REVOCATIONS_FILE}.tmp`));
    await ops.publish(TOPIC, fleetKey.sign(payload(gate, 1, [entry('03', '0000BB')])));
    await waitFor(() => lines(gate, 'revocation list in force but not saved: the broker gives it again after a restart').length === 1, 'the failed save logged');
    expect(gate.inForce().isRevoked(UNIONPAY, '03', '0000BB')).toBe(true);
    expect(gate.link.status().revocationSeq).toBe(1);
    expect(existsSync(join(gate.base.dir, REVOCATIONS_FILE))).toBe(false);
  });
});

describe('the revocation file', () => {
  const root = mkdtempSync(join(tmpdir(), 'citygate-revocations-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const sink = { setRevocations: () => undefined };

  it('refuses to start on a file it cannot read, naming the path and what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['{"seq": 1', /^revocation list .*bad-1\.json is not JSON/],
      ['{"seq": 0, "issuedAt": 1, "exp": 2, "revoked": []}', /bad-2\.json: seq: /],
      ['{"seq": 1, "issuedAt": 1, "exp": 2}', /bad-3\.json: revoked: /],
      ['{"seq": 1, "issuedAt": 1, "exp": 2, "revoked": [{"rid": "A000000333", "index": "3", "serial": "000001"}]}', /bad-4\.json: revoked\[0\]\.index: expected 2 hex digits, got "3"$/],
    ];
    cases.forEach(([text, message], i) => {
      const path = join(root, `bad-${i + 1}.json`);
      writeFileSync(path, text);
      let error: unknown;
      try {
        new RevocationFile(path, sink);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toMatch(message);
    });
  });

  it('is read by citygate status: seq and entries, or a problem when it would stop the gate', () => {
    const state = join(root, 'state');
    mkdirSync(state);
    const config = join(root, 'config.json');
    writeFileSync(join(root, 'trust.json'), JSON.stringify(trustListOf([issuer], [fleetKey.jwk()])));
    writeFileSync(config, JSON.stringify({ gate: { id: 'S-1', site: 'site-s', mode: 'metro-entry', fares: { default: 200, byCategory: {} } }, paths: { state, trust: join(root, 'trust.json') }, devices: {} }));
    expect(gateStatus(config).revocations).toEqual({ path: join(state, REVOCATIONS_FILE), note: 'none received yet' });
    const file = new RevocationFile(join(state, REVOCATIONS_FILE), sink);
    file.apply({ seq: 7, issuedAt: 100, exp: 200, list: RevocationList.fromDocument({ revoked: [entry('03', '000001'), entry('03', '000002')] }, 'test') });
    expect(gateStatus(config).revocations).toEqual({ path: join(state, REVOCATIONS_FILE), seq: 7, entries: 2, exp: 200 });
    writeFileSync(join(state, REVOCATIONS_FILE), '{');
    const status = gateStatus(config);
    expect(status.revocations).toEqual({ path: join(state, REVOCATIONS_FILE), note: 'unreadable' });
    expect(status.problems.filter((p) => p.startsWith('revocation list: '))).toHaveLength(1);
  });
});

describe('citygate fleet revoke', () => {
  const opsDirs: string[] = [];
  afterAll(() => {
    for (const dir of opsDirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A fleet-ops directory with its key, and the key's public JWK. */
  function opsDir(): { dir: string; jwk: Jwk } {
    const dir = mkdtempSync(join(tmpdir(), 'citygate-revoke-ops-'));
    opsDirs.push(dir);
    const output = new Captured();
    expect(fleetInit({ dir }, output)).toBe(0);
    return { dir, jwk: JSON.parse(output.stdout[0]!) as Jwk };
  }

  async function revoke(options: Omit<FleetRevokeOptions, 'broker'>): Promise<Record<string, unknown>> {
    const output = new Captured();
    expect(await fleetRevoke({ broker: broker.url, ...options }, output)).toBe(0);
    return JSON.parse(output.stdout.at(-1)!) as Record<string, unknown>;
  }

  it('publishes the whole signed list with the next seq; the gate applies each', async () => {
    const { dir, jwk } = opsDir();
    // The gate's trust list carries this directory's fleet key.
    const gateDir = mkdtempSync(join(tmpdir(), 'citygate-revoke-gate-'));
    writeFileSync(join(gateDir, 'trust.json'), JSON.stringify(trustListOf([issuer], [jwk])));
    const gate = await revocationGate('REV-5', gateDir);

    expect(await revoke({ dir, add: ['a000000333:03:00012f', 'A000000333:0B:123456'] })).toMatchObject({ topic: TOPIC, seq: 1, entries: 2, added: 2, removed: 0 });
    await waitFor(() => gate.file.seq() === 1, 'list seq 1 from fleet revoke');
    expect(gate.inForce().entries).toEqual([entry('03', '00012F'), entry('0B', '123456')]);
    expect(gate.inForce().isRevoked(UNIONPAY, '03', '00012F')).toBe(true);

    expect(await revoke({ dir, add: ['A000000333:0B:123456'], remove: ['A000000333:03:00012F', 'A000000333:03:FFFFFF'] })).toMatchObject({ seq: 2, entries: 1, added: 0, removed: 1, alreadyListed: 1, notListed: 1 });
    await waitFor(() => gate.file.seq() === 2, 'list seq 2 from fleet revoke');
    expect(gate.inForce().entries).toEqual([entry('0B', '123456')]);
    // DIR keeps the list signed last, in the format --file takes.
    expect(JSON.parse(readFileSync(join(dir, HELD_LIST_FILE), 'utf8'))).toEqual({ revoked: [entry('0B', '123456')] });

    // --file replaces the list held; --add goes on top of it.
    const file = join(dir, 'crl.json');
    writeFileSync(file, JSON.stringify({ revoked: [entry('01', 'AAAAAA'), entry('0b', '123456')] }));
    expect(await revoke({ dir, file, add: ['A000000333:02:BBBBBB'], validDays: 7 })).toMatchObject({ seq: 3, entries: 3, added: 2, removed: 0 });
    await waitFor(() => gate.file.seq() === 3, 'list seq 3 from fleet revoke');
    expect(gate.inForce().entries).toEqual([entry('01', 'AAAAAA'), entry('02', 'BBBBBB'), entry('0B', '123456')]);
    const saved = JSON.parse(readFileSync(join(gateDir, REVOCATIONS_FILE), 'utf8')) as { exp: number; issuedAt: number };
    expect(saved.exp - saved.issuedAt).toBe(7 * 86_400);

    // No changes: the same list signed again, with a new seq and expiry, for gates that connect later.
    expect(await revoke({ dir })).toMatchObject({ seq: 4, entries: 3, added: 0, removed: 0 });
    await waitFor(() => gate.file.seq() === 4, 'list seq 4 from fleet revoke');
    expect(gate.inForce().entries).toHaveLength(3);
  });

  it('refuses bad arguments with a message naming them, before anything is signed', async () => {
    const { dir } = opsDir();
    const write = (name: string, text: string): string => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const cases: [Partial<FleetRevokeOptions>, RegExp][] = [
      [{ add: ['A000000333-03-000001'] }, /^--add "A000000333-03-000001": expected RID:INDEX:SERIAL in hex, e\.g\. A000000333:03:00012F$/],
      [{ add: ['A0000003:03:000001'] }, /^--add "A0000003:03:000001": RID must be 10 hex digits$/],
      [{ remove: ['A000000333:3:000001'] }, /^--remove "A000000333:3:000001": INDEX must be 2 hex digits$/],
      [{ add: ['A000000333:03:00000G'] }, /^--add "A000000333:03:00000G": SERIAL must be 6 hex digits$/],
      [{ add: ['A000000333:03:000001'], remove: ['a000000333:03:000001'] }, /^A000000333:03:000001 is both added and removed$/],
      [{ validDays: 0 }, /^--valid-days must be a whole number of days, at least 1$/],
      [{ validDays: Number('soon') }, /^--valid-days must be/],
      [{ file: write('not-json.json', '{') }, /not-json\.json is not JSON/],
      [{ file: write('bad-entry.json', '{"revoked": [{"rid": "A000000333", "index": "03"}]}') }, /bad-entry\.json: revoked\[0\]\.serial: expected 6 hex digits, got nothing$/],
      [{ file: join(dir, 'missing.json') }, /cannot read revocation list .*missing\.json: ENOENT/],
      [{ broker: undefined }, /give --broker URL to publish, or --print/],
      [{ dir: join(dir, 'no-such-dir') }, /cannot read the fleet-ops key .*run "citygate fleet init/],
    ];
    for (const [options, message] of cases) {
      await expect(fleetRevoke({ dir, broker: broker.url, ...options }, new Captured())).rejects.toThrow(message);
    }
    await expect(fleetRevoke({ dir, broker: broker.url, add: ['x'] }, new Captured())).rejects.toBeInstanceOf(InputError);
    // Nothing was signed or kept.
    expect(existsSync(join(dir, HELD_LIST_FILE))).toBe(false);
    expect(await revoke({ dir, add: ['A000000333:03:000001'] })).toMatchObject({ seq: 1 });
  });
});
