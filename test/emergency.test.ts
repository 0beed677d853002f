import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmergencyContact } from '../hal/emergencyInput.js';
import { createSimBoard, type SimBoard } from '../sim/board.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { SimEmergencyContact } from '../sim/simEmergencyContact.js';
import { SimSpeaker } from '../sim/simSpeaker.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import type { Alarm } from '../src/core/gate.js';
import { Journal } from '../src/core/journal.js';
import { silentLog } from '../src/core/log.js';
import { EMERGENCY_SCREEN, IDLE_SCREEN } from '../src/core/messages.js';
import { CommandHandler } from '../src/core/sync/commandHandler.js';
import { FleetClient } from './support/fleetClient.js';
import { TestFleetKey } from './support/fleetSigner.js';
import { Mosquitto } from './support/mosquitto.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';
import { gateFixture, nowSec, START, type GateFixture } from './gateFixture.js';

type LaneBoard = SimBoard & { emergency: SimEmergencyContact; speaker: SimSpeaker };

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const fixtures: GateFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.dispose();
});

async function lane(overrides = {}, contact: EmergencyContact = new SimEmergencyContact()): Promise<{ f: GateFixture; board: LaneBoard; alarms: Alarm[] }> {
  const board = Object.assign(createSimBoard(START), { emergency: contact, speaker: new SimSpeaker() }) as LaneBoard;
  const f = await gateFixture(overrides, { dir: mkdtempSync(join(tmpdir(), 'citygate-emergency-')), issuer, board });
  fixtures.push(f);
  const alarms: Alarm[] = [];
  f.gate.onAlarm((a) => alarms.push(a));
  return { f, board, alarms };
}

const actions = (board: SimBoard) => board.barrier.actions.map((a) => a.action);
const zh = (board: SimBoard) => board.display.lines.map((l) => l.zh);
const events = (f: GateFixture) => f.journal.events().map((e) => [e.type, e.detail]);

describe('emergency release by the fire-alarm contact', () => {
  it('opens and holds the barrier past any open timeout, counts and journals every passage without alarms, and closes on release', async () => {
    const { f, board, alarms } = await lane();
    board.emergency.set(true);
    expect(f.gate.emergency()).toBe(true);
    expect(f.gate.currentState()).toBe('open');
    expect(actions(board)).toEqual(['close', 'open']);
    expect(zh(board)).toEqual(EMERGENCY_SCREEN.map((l) => l.zh));
    expect(board.speaker.said).toEqual(['emergency']);

    board.clock.advance(f.settings.openTimeoutMs * 10);
    expect(board.barrier.state()).toBe('open');
    for (let i = 0; i < 3; i++) board.passage.pass();
    expect(alarms).toEqual([]);
    expect(board.indicators.tones).not.toContain('alarm');
    expect(f.gate.emergencyPassages()).toBe(3);
    // Commanded again after each passage, so that a turnstile lets the next person through.
    expect(actions(board)).toEqual(['close', 'open', 'open', 'open', 'open']);

    board.emergency.set(false);
    expect(f.gate.emergency()).toBe(false);
    expect(f.gate.currentState()).toBe('idle');
    expect(board.barrier.state()).toBe('closed');
    expect(zh(board)).toEqual(IDLE_SCREEN.map((l) => l.zh));
    expect(events(f)).toEqual([
      ['emergency-start', { source: 'contact' }],
      ['emergency-passage', { sensor: 'passage', passages: 1 }],
      ['emergency-passage', { sensor: 'passage', passages: 2 }],
      ['emergency-passage', { sensor: 'passage', passages: 3 }],
      ['emergency-end', { source: 'contact', passages: 3 }],
    ]);

    // Back to normal: a passage nobody paid for is tailgating again.
    board.passage.pass();
    expect(alarms.map((a) => a.type)).toEqual(['tailgate']);
    expect(f.gate.emergencyPassages()).toBe(3);
  });

  it('a contact already open at start holds the barrier open from the first moment, without closing it first', async () => {
    const contact = new SimEmergencyContact();
    contact.set(true);
    const { f, board } = await lane({}, contact);
    expect(f.gate.emergency()).toBe(true);
    expect(actions(board)).toEqual(['open']);
    expect(zh(board)).toEqual(EMERGENCY_SCREEN.map((l) => l.zh));
  });

  it('decides and journals taps as usual, but an accepted one changes nothing at the barrier or on the screen', async () => {
    const { f, board } = await lane();
    board.emergency.set(true);
    const before = actions(board);
    await f.gate.presentCode(issuer.issuerCode({ sub: 'acct-1', iat: nowSec(board) }));
    await f.gate.presentCode(new TestIssuer('nobody.known', 'ES256').issuerCode({ sub: 'x', iat: nowSec(board) }));
    expect(f.journal.taps().map((t) => [t.subject, t.reason, t.fare])).toEqual([
      ['acct-1', 'ok', 200],
      [null, 'unknown-issuer', null],
    ]);
    expect(actions(board)).toEqual(before);
    expect(zh(board)).toEqual(EMERGENCY_SCREEN.map((l) => l.zh));
    expect(board.speaker.said).toEqual(['emergency']);
    expect(f.gate.currentState()).toBe('open');

    // The tap granted nothing: after the release the barrier stays shut and a passage is tailgating.
    board.emergency.set(false);
    const alarms: string[] = [];
    f.gate.onAlarm((a) => alarms.push(a.type));
    board.passage.pass();
    expect(alarms).toEqual(['tailgate']);
    expect(board.barrier.state()).toBe('closed');
  });

  it('ends passages granted before the emergency: they do not carry over past the release', async () => {
    const { f, board } = await lane();
    await f.gate.presentCode(issuer.issuerCode({ sub: 'acct-1', iat: nowSec(board) }));
    board.emergency.set(true);
    board.clock.advance(f.settings.openTimeoutMs * 2);
    expect(board.barrier.state()).toBe('open');
    board.emergency.set(false);
    expect(board.barrier.state()).toBe('closed');
    expect(f.gate.currentState()).toBe('idle');
  });

  it('reports a fault on the contact as device health, and a contact that cannot start leaves the gate serving', async () => {
    const { f, board } = await lane();
    board.emergency.fault('emergency (BCM16): read failed: EIO');
    expect(f.gate.deviceHealth()['emergency']).toEqual({ healthy: false, detail: 'emergency (BCM16): read failed: EIO' });

    const broken: EmergencyContact = { start: async () => Promise.reject(new Error('EBUSY: the pin is claimed')), stop: async () => undefined };
    const other = await lane({}, broken);
    expect(other.f.gate.deviceHealth()['emergency']).toEqual({ healthy: false, detail: 'the fire-alarm contact did not start: EBUSY: the pin is claimed' });
    const outcome = await other.f.gate.presentCode(issuer.issuerCode({ sub: 'acct-2', iat: nowSec(other.board) }));
    expect(outcome.type === 'tap' && outcome.tap.reason).toBe('ok');
    expect(other.board.barrier.state()).toBe('open');
  });

  it('stopping the gate during an emergency leaves the barrier open', async () => {
    const { f, board } = await lane();
    board.emergency.set(true);
    await f.gate.stop();
    expect(actions(board)).toEqual(['close', 'open']);
  });
});

describe('emergency release by signed fleet command', () => {
  const fleetKey = new TestFleetKey('ES256');
  const trust = TrustStore.fromDocument(trustListOf([issuer], [fleetKey.jwk()]));

  function handler(f: GateFixture): CommandHandler {
    const gate = f.gate;
    const target = { open: () => gate.remoteOpen(), setMode: () => undefined, resync: () => undefined, reloadTrust: () => undefined, emergency: (active: boolean) => gate.commandEmergency(active) };
    return new CommandHandler(f.settings.gateId, f.journal, () => trust, target, () => f.board.clock.now(), 30, silentLog);
  }

  function signed(f: GateFixture, type: string, nonce: string): Uint8Array {
    return fleetKey.sign({ type, gate: f.settings.gateId, nonce, exp: nowSec(f.board) + 60 });
  }

  it('holds the barrier open from `emergency` until `emergency-release`, counting passages', async () => {
    const { f, board } = await lane();
    const commands = handler(f);
    expect(commands.handle(signed(f, 'emergency', 'nonce-em-1'))).toEqual({ nonce: 'nonce-em-1', type: 'emergency', result: 'done', reason: 'ok' });
    expect(f.gate.emergency()).toBe(true);
    board.clock.advance(60_000);
    board.passage.pass();
    board.passage.pass();
    expect(board.barrier.state()).toBe('open');
    expect(commands.handle(signed(f, 'emergency-release', 'nonce-rel-1'))).toEqual({ nonce: 'nonce-rel-1', type: 'emergency-release', result: 'done', reason: 'ok' });
    expect(board.barrier.state()).toBe('closed');
    expect(events(f).map(([type]) => type)).toEqual(['emergency-start', 'emergency-passage', 'emergency-passage', 'emergency-end']);
    expect(f.journal.events().at(-1)!.detail).toEqual({ source: 'command', passages: 2 });
  });

  it('refuses an unsigned or forged emergency command: the barrier stays shut', async () => {
    const { f, board } = await lane();
    const forged = fleetKey.impostor().sign({ type: 'emergency', gate: f.settings.gateId, nonce: 'nonce-forged', exp: nowSec(board) + 60 });
    expect(handler(f).handle(forged)).toMatchObject({ result: 'refused', reason: 'bad-signature' });
    expect(f.gate.emergency()).toBe(false);
    expect(board.barrier.state()).toBe('closed');
  });

  it('a release command cannot override an open fire-alarm contact; the contact closing then ends it', async () => {
    const { f, board } = await lane();
    const commands = handler(f);
    board.emergency.set(true);
    expect(commands.handle(signed(f, 'emergency', 'nonce-em-2')).result).toBe('done');
    expect(commands.handle(signed(f, 'emergency-release', 'nonce-rel-2'))).toEqual({ nonce: 'nonce-rel-2', type: 'emergency-release', result: 'refused', reason: 'failed' });
    expect(board.barrier.state()).toBe('open');
    board.emergency.set(false);
    expect(f.gate.emergency()).toBe(false);
    expect(board.barrier.state()).toBe('closed');
  });

  it('a command keeps the barrier open after the contact closes, until it is released', async () => {
    const { f, board } = await lane();
    const commands = handler(f);
    board.emergency.set(true);
    commands.handle(signed(f, 'emergency', 'nonce-em-3'));
    board.emergency.set(false);
    expect(f.gate.emergency()).toBe(true);
    expect(board.barrier.state()).toBe('open');
    expect(commands.handle(signed(f, 'emergency-release', 'nonce-rel-3')).result).toBe('done');
    expect(board.barrier.state()).toBe('closed');
    expect(f.journal.events().map((e) => [e.type, e.detail['source']])).toEqual([
      ['emergency-start', 'contact'],
      ['emergency-end', 'command'],
    ]);
  });

  it('a commanded emergency outlives a restart: the barrier opens without closing first', async () => {
    const { f } = await lane();
    handler(f).handle(signed(f, 'emergency', 'nonce-em-4'));
    const again = await f.restart();
    fixtures.push(again);
    expect(again.gate.emergency()).toBe(true);
    expect(actions(again.board)).toEqual(['open']);
    handler(again).handle(signed(again, 'emergency-release', 'nonce-rel-4'));
    const third = await again.restart();
    fixtures.push(third);
    expect(third.gate.emergency()).toBe(false);
    expect(actions(third.board)).toEqual(['close']);
  });
});

describe('emergency release over MQTT', () => {
  const fleetKey = new TestFleetKey('ES256');
  let broker: Mosquitto;
  let fleet: FleetClient;
  let gate: SyncGate;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    fleet = await FleetClient.connect(broker.url, 'fleet-ops-emergency');
    await fleet.subscribe('citygate/v1/gates/EM-1/status');
    gate = await startSyncGate({ url: broker.url, gateId: 'EM-1', issuers: [issuer], fleet: [fleetKey] });
  });
  afterAll(async () => {
    await gate?.dispose();
    await fleet?.close();
    await broker?.stop();
  });

  it('a signed command reaches the gate, and the status shows the emergency and its passages', async () => {
    const command = (type: string) => fleet.publish('citygate/v1/gates/EM-1/cmd', fleetKey.sign({ type, gate: 'EM-1', nonce: `${type}-${Math.random()}`, exp: gate.nowSec() + 60 }));
    await command('emergency');
    await fleet.next<{ emergency: boolean }>('citygate/v1/gates/EM-1/status', (s) => s.emergency, 'a status with emergency: true');
    expect(gate.board.barrier.state()).toBe('open');
    gate.board.passage.pass();
    gate.board.passage.pass();
    expect(gate.link.status()).toMatchObject({ emergency: true, emergencyPassages: 2, alarms: [] });
    await command('emergency-release');
    await fleet.next<{ emergency: boolean; emergencyPassages: number }>('citygate/v1/gates/EM-1/status', (s) => !s.emergency && s.emergencyPassages === 2, 'a status with emergency: false');
    expect(gate.board.barrier.state()).toBe('closed');
  });
});

describe('the simulated lane: `#emergency on|off` lines', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'citygate-emergency-lane-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('flip the lane\'s sim fire-alarm contact in `citygate run`: the barrier is held open, the walking passenger counted, and released', async () => {
    writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer])));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        gate: { id: 'EM-LANE', site: 'site-e', mode: 'metro-entry' },
        paths: { state: join(dir, 'state'), trust: join(dir, 'trust.json') },
        devices: {
          scanners: [{ driver: 'sim', input: '-' }],
          barrier: { driver: 'sim' },
          passage: { driver: 'sim', walkMs: 30 },
          clock: { driver: 'sim' },
          emergency: { driver: 'sim' },
          speaker: { driver: 'sim' },
        },
        metrics: { port: 0 },
      }),
    );
    const child = spawn(process.execPath, ['dist/bin/citygate.js', 'run', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const text of parts) if (text.startsWith('{')) lines.push(JSON.parse(text) as Record<string, unknown>);
    });
    const logged = (msg: string) => lines.filter((l) => l['msg'] === msg);
    try {
      await waitFor(() => logged('gate ready').length === 1, 'the gate ready');
      child.stdin.write('#emergency on\n');
      await waitFor(() => logged('emergency release: barrier held open').length === 1, 'the emergency release');
      expect(logged('sim speaker').map((l) => l['prompt'])).toEqual(['emergency']);
      expect(logged('sim barrier').map((l) => l['barrier'])).toEqual(['open']);
      // The lane's passenger keeps walking through the open barrier; the gate journals each one (read as the fleet's tools would, alongside the writer).
      const db = new Database(join(dir, 'state', 'journal.db'), { readonly: true, fileMustExist: true });
      const walked = () => (db.prepare("SELECT count(*) AS n FROM events WHERE type = 'emergency-passage'").get() as { n: number }).n;
      try {
        await waitFor(() => walked() >= 2, 'two emergency passages journaled');
      } finally {
        db.close();
      }
      child.stdin.write('#emergency off\n');
      await waitFor(() => logged('emergency release ended').length === 1, 'the release');
      expect(logged('emergency release ended')[0]!['passages']).toBeGreaterThanOrEqual(2);
      expect(logged('sim barrier').map((l) => l['barrier'])).toEqual(['open', 'closed']);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const journal = Journal.open(join(dir, 'state', 'journal.db'), 'EM-LANE', 'site-e');
    try {
      const types = journal.events().map((e) => e.type);
      expect(types[0]).toBe('emergency-start');
      expect(types.at(-1)).toBe('emergency-end');
      expect(types.slice(1, -1).every((t) => t === 'emergency-passage')).toBe(true);
    } finally {
      journal.close();
    }
  });
});
