import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../src/core/gate.js';
import { Journal, type GateEvent } from '../src/core/journal.js';
import { silentLog } from '../src/core/log.js';
import type { GateMode } from '../src/core/settings.js';
import type { Tap } from '../src/core/tap.js';
import type { Scenario, ScenarioPassenger } from '../sim/scenario.js';
import { runScenario, timelineOf, type ScenarioRun } from '../sim/scenarioRunner.js';
import { bankCardsOf } from '../sim/scenarioBankCards.js';
import { loadScenario, SCENARIO_DIR, tapLine } from '../sim/simCommand.js';

/*
 * One scenario per gate mode (sim/scenarios/*.json), run on the simulated
 * board with a real journal file. The runner checks each passenger's own
 * expectations; this test checks them again against what the journal kept
 * (row by row) and what the barrier was told (action by action).
 */

const MODE_SCENARIOS = ['bus.json', 'metro.json', 'venue.json', 'access.json', 'emergency.json'];

interface Played {
  scenario: Scenario;
  run: ScenarioRun;
  rows: Tap[];
  events: GateEvent[];
  /** What `citygate sim` prints for each tap. */
  lines: string[];
}

const dir = mkdtempSync(join(tmpdir(), 'citygate-modes-'));
const played = new Map<string, Played>();

beforeAll(async () => {
  for (const file of MODE_SCENARIOS) {
    const scenario = loadScenario(join(SCENARIO_DIR, file));
    const journalPath = join(dir, `${file}.db`);
    const lines: string[] = [];
    const run = await runScenario(scenario, { journalPath, log: silentLog, onOutcome: (outcome, passenger) => lines.push(tapLine(outcome, passenger) ?? '') });
    const journal = Journal.open(journalPath, scenario.gate.gateId, scenario.gate.site!);
    played.set(file, { scenario, run, rows: journal.taps(), events: journal.events(), lines });
    journal.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function taps(outcomes: Outcome[]): Tap[] {
  return outcomes.flatMap((o) => (o.type === 'tap' ? [o.tap] : []));
}

/** The scenario's passengers by name, as written (the run's results carry only what happened). */
function written(scenario: Scenario): Map<string, ScenarioPassenger> {
  return new Map(timelineOf(scenario).flatMap((e) => ('event' in e ? [] : [[e.name, e] as const])));
}

/** The mode the gate is in at each passenger, following the scenario's set-mode events. */
function modesAt(scenario: Scenario): Map<string, GateMode> {
  const modes = new Map<string, GateMode>();
  let mode = scenario.gate.mode;
  for (const entry of timelineOf(scenario)) {
    if ('event' in entry) {
      if (entry.event === 'set-mode') mode = entry.mode;
    } else modes.set(entry.name, mode);
  }
  return modes;
}

/** Names of the passengers who present while an emergency release holds the barrier open. */
function duringEmergency(scenario: Scenario): Set<string> {
  const names = new Set<string>();
  const holds = { contact: false, command: false };
  for (const entry of timelineOf(scenario)) {
    if ('event' in entry) {
      if (entry.event === 'emergency') holds[entry.by] = entry.on;
    } else if (holds.contact || holds.command) names.add(entry.name);
  }
  return names;
}

describe.each(MODE_SCENARIOS)('mode scenario %s', (file) => {
  const get = (): Played => played.get(file)!;

  it('meets every expectation the file states, with every passenger stating reason and openings, and fare and category when admitted', () => {
    const { run, scenario } = get();
    expect(run.passengers.length).toBeGreaterThanOrEqual(6);
    const byName = written(scenario);
    for (const p of run.passengers) {
      const spec = byName.get(p.name)!;
      expect(p.mismatch, p.name).toBeUndefined();
      expect(spec.expectOpenings, `${p.name}: expectOpenings`).toBeTypeOf('number');
      if (spec.sneak) continue;
      expect(spec.expect, `${p.name}: expect`).toBeDefined();
      if (spec.expect === 'accepted') {
        expect(spec.expectFare, `${p.name}: expectFare`).not.toBeUndefined();
        expect(spec.expectCategory, `${p.name}: expectCategory`).not.toBeUndefined();
      }
    }
    for (const e of run.events) expect(e.mismatch, e.name).toBeUndefined();
  });

  it('journals one row per presenting passenger, in order, as the file expects', () => {
    const { run, rows, scenario } = get();
    const byName = written(scenario);
    const modes = modesAt(scenario);
    let seq = 0;
    for (const p of run.passengers) {
      const spec = byName.get(p.name)!;
      const own = taps(p.outcomes);
      if (spec.sneak) {
        expect(own, p.name).toEqual([]);
        continue;
      }
      expect(own, p.name).toHaveLength(1);
      seq += 1;
      const row = rows[seq - 1]!;
      expect(row, p.name).toEqual(own[0]);
      expect(row.seq, p.name).toBe(seq);
      expect(row.mode, p.name).toBe(modes.get(p.name));
      if (spec.bankCard) {
        // Kind `emv` once the card proved itself a QuickPass card; a card refused before (a clone, a card of another scheme) is journaled as a card.
        if (row.result === 'accepted') expect(row.kind, p.name).toBe('emv');
        else expect(['emv', 'card'], p.name).toContain(row.kind);
      } else expect(row.kind, p.name).toBe(spec.uid !== undefined ? 'uid' : spec.card ? 'card' : spec.purseCard ? 'tunion' : 'code');
      expect(row.reason, p.name).toBe(spec.expect === 'accepted' ? 'ok' : spec.expect);
      expect(row.result, p.name).toBe(spec.expect === 'accepted' ? 'accepted' : 'refused');
      if (row.result === 'refused') expect(row.fare, p.name).toBeNull();
      if (spec.expectFare !== undefined) expect(row.fare, p.name).toBe(spec.expectFare);
      if (spec.expectCategory !== undefined) expect(row.category, p.name).toBe(spec.expectCategory);
      if (spec.expectPlace !== undefined) expect(row.place, p.name).toEqual(spec.expectPlace);
    }
    expect(rows).toHaveLength(seq);
  });

  it('commands the barrier action by action: one opening per person let through, closed again after the last', () => {
    const { run, scenario } = get();
    const byName = written(scenario);
    const held = duringEmergency(scenario);
    for (const p of run.passengers) {
      const spec = byName.get(p.name)!;
      const actions = p.barrier.map((a) => a.action);
      const openings = spec.expectOpenings!;
      if (held.has(p.name)) {
        // Held open: each person through is let through again, nothing closes.
        expect(actions, p.name).toEqual(Array(openings).fill('open'));
      } else if (openings === 0) {
        expect(actions, p.name).toEqual([]);
      } else {
        expect(actions, p.name).toEqual([...Array(openings).fill('open'), 'close']);
        expect(p.barrier.at(-1)!.at - p.barrier[0]!.at, p.name).toBeLessThan(scenario.gate.openTimeoutMs * openings);
      }
    }
    for (const e of run.events) {
      if (e.event.event !== 'emergency') continue;
      expect(e.barrier.map((a) => a.action)[0], e.name).toBe(e.event.on ? 'open' : 'close');
    }
  });

  it('journals a tailgating event for every tailgating alarm', () => {
    const { run, events } = get();
    const alarms = run.alarms.filter((a) => a.type === 'tailgate').length;
    expect(events.filter((e) => e.type === 'tailgate')).toHaveLength(alarms);
  });
});

/** The PANs of the scenario's bank cards, masked as the gate keeps them (first 6, last 4). */
const masked = (pan: string): string => `${pan.slice(0, 6)}${'*'.repeat(pan.length - 10)}${pan.slice(-4)}`;

describe.each(MODE_SCENARIOS)('bank cards in mode scenario %s', (file) => {
  it('prints no bank card\'s clear PAN on any tap line; an accepted bank card shows kind emv, its token and its masked PAN', () => {
    const { scenario, run, lines } = played.get(file)!;
    const byName = written(scenario);
    const pans = [...new Set(bankCardsOf(scenario).map((c) => c.spec.pan))];
    for (const line of lines) for (const pan of pans) expect(line).not.toContain(pan);
    for (const p of run.passengers) {
      const spec = byName.get(p.name)!;
      const tap = taps(p.outcomes)[0];
      if (!spec.bankCard || tap?.result !== 'accepted') continue;
      const line = JSON.parse(lines.find((l) => l !== '' && JSON.parse(l).seq === tap.seq)!);
      expect(line, p.name).toMatchObject({ passenger: p.name, kind: 'emv', issuer: 'emv', category: 'adult', emv: { pan: masked(spec.bankCard.pan), psn: spec.bankCard.psn, oda: spec.bankCard.algorithm.toLowerCase() } });
      expect(line.subject, p.name).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});

describe('what each mode scenario shows', () => {
  it('bus: fares by route, category, time of day and transfer, with route and stop on every tap', () => {
    const { rows } = played.get('bus.json')!;
    const accepted = rows.filter((r) => r.result === 'accepted');
    expect(new Set(accepted.map((r) => r.fare)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(accepted.map((r) => r.category))).toEqual(new Set(['adult', 'senior', 'student', 'disabled']));
    for (const row of rows) {
      expect(row.place?.route, `seq ${row.seq}`).toBeTypeOf('string');
      expect(row.place?.stop, `seq ${row.seq}`).toBeTypeOf('string');
    }
    expect(new Set(rows.map((r) => r.place!.route)).size).toBeGreaterThanOrEqual(2);
    expect(new Set(rows.map((r) => r.place!.stop)).size).toBeGreaterThanOrEqual(3);
  });

  it('bus and metro: bank cards, RSA and SM2, pay the adult fare; a double tap is charged once; clones, expired cards and other schemes are refused', () => {
    for (const [file, adult] of [['bus.json', 200], ['metro.json', 200]] as const) {
      const { run, rows } = played.get(file)!;
      const bank = rows.filter((r) => r.kind === 'emv' && r.result === 'accepted');
      expect(new Set(bank.map((r) => r.emv!.oda)), file).toEqual(new Set(['rsa', 'sm2']));
      for (const row of bank.filter((r) => r.mode !== 'metro-exit')) {
        // The amount the card was told (9F02) for the back office's claim: the adult fare here, before any transfer discount.
        expect(Number.parseInt(row.emv!.data['9F02']!, 10), `${file} seq ${row.seq}`).toBe(row.mode === 'bus' && row.place?.route === '871' ? 300 : adult);
      }
      const twice = run.passengers.find((p) => p.name.includes('tapped twice'))!;
      expect(twice.outcomes.map((o) => o.type), file).toEqual(['tap', 'repeat']);
      expect(rows.filter((r) => r.subject === taps(twice.outcomes)[0]!.subject), file).toHaveLength(1);
      expect(rows.map((r) => r.reason), file).toEqual(expect.arrayContaining(['card-auth-failed', 'expired', 'card-not-supported']));
    }
    const { rows } = played.get('bus.json')!;
    // The bank card that boarded 261 pays 871's fare less the transfer discount.
    const transfer = rows.find((r) => r.kind === 'emv' && r.place?.route === '871')!;
    expect(transfer.fare).toBe(200);
  });

  it('metro: passback refused at the same station within the window, the station on every tap', () => {
    const { rows } = played.get('metro.json')!;
    expect(rows.filter((r) => r.reason === 'passback').length).toBeGreaterThanOrEqual(1);
    expect(new Set(rows.map((r) => r.mode))).toEqual(new Set(['metro-entry', 'metro-exit']));
    for (const row of rows) expect(row.place?.station, `seq ${row.seq}`).toBeTypeOf('string');
  });

  it('venue: a group ticket opens once per person, capacity refuses, the slot is shown', () => {
    const { run, rows } = played.get('venue.json')!;
    const group = run.passengers.find((p) => taps(p.outcomes)[0]?.product?.entries === 3)!;
    expect(group.barrier.filter((a) => a.action === 'open')).toHaveLength(3);
    expect(rows.map((r) => r.reason)).toEqual(expect.arrayContaining(['ok', 'wrong-site', 'outside-window', 'capacity-full']));
  });

  it('access: allow-list, UID badge, visitor, refusals and a tailgater', () => {
    const { rows, events } = played.get('access.json')!;
    expect(rows.some((r) => r.kind === 'uid' && r.result === 'accepted')).toBe(true);
    expect(rows.map((r) => r.reason)).toEqual(expect.arrayContaining(['ok', 'not-allowed', 'outside-schedule']));
    expect(events.filter((e) => e.type === 'tailgate').length).toBeGreaterThanOrEqual(2);
  });

  it('emergency: the barrier held open, every passage counted, released by contact and by command', () => {
    const { run, events, scenario } = played.get('emergency.json')!;
    const types = events.map((e) => e.type).filter((t) => t !== 'tailgate');
    const windows: GateEvent[][] = [];
    for (const event of events) {
      if (event.type === 'emergency-start') windows.push([]);
      else if (event.type === 'emergency-passage') windows.at(-1)!.push(event);
    }
    expect(types.filter((t) => t === 'emergency-start')).toHaveLength(2);
    expect(types.filter((t) => t === 'emergency-end')).toHaveLength(2);
    // Everyone who walked while the release held: the sneaks' walkers and one per admitted passenger.
    const byName = written(scenario);
    const held = duringEmergency(scenario);
    const walkers = [...held].map((name) => {
      const spec = byName.get(name)!;
      return spec.walk === true ? 1 : Number(spec.walk);
    });
    expect(windows.map((w) => w.length).reduce((a, b) => a + b, 0)).toBe(walkers.reduce((a, b) => a + b, 0));
    const ends = events.filter((e) => e.type === 'emergency-end');
    expect(ends.map((e) => e.detail.passages)).toEqual(windows.map((w) => w.length));
    expect(run.alarms.filter((a) => a.type === 'tailgate')).toHaveLength(1);
  });
});
