import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, parseWith } from '../src/app/settingsSchema.js';
import { silentLog } from '../src/core/log.js';
import { scenarioSchema } from '../sim/scenario.js';
import { runScenario } from '../sim/scenarioRunner.js';

const dir = mkdtempSync(join(tmpdir(), 'citygate-scenario-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let runs = 0;

const VENUE = { id: 'G-V1', site: 'site-v', mode: 'venue' };
const BUS = { id: 'G-B1', site: 'cq-bus', mode: 'bus', bus: { operator: 'cq-bus', route: '261', stops: [{ id: 'a', name: 'A', lat: 29.5, lon: 106.5 }] } };
const ISSUERS = [{ id: 'cq.yukuaima' }];

function problems(document: Record<string, unknown>): string {
  try {
    parseWith(scenarioSchema, { name: 'x', issuers: ISSUERS, ...document }, 'f.json');
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('the scenario was accepted');
}

async function play(document: Record<string, unknown>) {
  const scenario = parseWith(scenarioSchema, { name: 'x', issuers: ISSUERS, ...document }, 'f.json');
  return runScenario(scenario, { journalPath: join(dir, `run-${++runs}.db`), log: silentLog });
}

/** The barrier closed by the gate's open timeout (8 s), not by a passage; simulated time also moves with the real processing time. */
function expectOpenTimeout(ms: number): void {
  expect(ms).toBeGreaterThanOrEqual(8_000);
  expect(ms).toBeLessThan(8_000 + 700);
}

const ticket = (account: string, entries: number) => ({ issuer: 'cq.yukuaima', account, product: { site: 'site-v', entries } });

describe('scenario format: the new fields are validated, each error naming the field', () => {
  it('rejects a malformed UID, an unknown event, a negative walk and an expectation of the wrong type', () => {
    const text = problems({
      gate: VENUE,
      passengers: [{ uid: '04A1B2' }, { event: 'landslide' }, { code: ticket('a', 1), walk: -1 }, { card: { issuer: 'cq.yukuaima', number: 'C1' }, expectFare: '2 yuan' }],
    });
    expect(text).toContain('f.json: passengers.0.uid: a card UID in hex: 4, 7 or 10 bytes');
    expect(text).toMatch(/f\.json: passengers\.1\.event: .*'stop' \| 'emergency' \| 'set-mode'/);
    expect(text).toContain('f.json: passengers.2.walk:');
    expect(text).toContain('f.json: passengers.3.expectFare:');
  });

  it('rejects expectations that cannot hold: a fare on a refusal, a tap expected of someone who presents nothing, a fault a UID card cannot have', () => {
    const text = problems({
      gate: VENUE,
      passengers: [
        { code: ticket('a', 1), expect: 'wrong-site', expectFare: 200 },
        { sneak: true, expectCategory: 'adult' },
        { uid: '04A1B2C3D4E5F6', fault: 'cloned' },
      ],
    });
    expect(text).toContain('passengers.0.expectFare: a refused tap (wrong-site) charges nothing: null (got 200)');
    expect(text).toContain('passengers.1.expectCategory: a passenger who presents nothing makes no tap');
    expect(text).toContain('passengers.2.fault: not a fault of a UID card');
  });

  it('rejects events out of place: a stop without a bus section or outside bus mode, an emergency switched on twice', () => {
    expect(problems({ gate: VENUE, passengers: [{ event: 'stop', stop: 'a' }] })).toContain('passengers.0.event: a stop needs a gate.bus section');
    const text = problems({
      gate: BUS,
      passengers: [
        { at: 5, event: 'stop', stop: 'a' },
        { at: 1, event: 'set-mode', mode: 'venue' },
        { at: 10, event: 'emergency', on: true },
        { at: 12, event: 'emergency', on: true },
        { at: 13, event: 'emergency', on: true, by: 'command' },
      ],
    });
    // Entries are checked in time order: the stop at 5 s comes after the mode change at 1 s.
    expect(text).toContain('passengers.0.event: a stop needs the gate in bus mode; at this time it is venue');
    expect(text).toContain('passengers.3.on: the emergency release by contact is already on');
    expect(text).not.toContain('passengers.4');
  });

  it('needs an issuer, in issuers or in trust, and no issuer in both', () => {
    expect(problems({ gate: VENUE, issuers: [] })).toContain('f.json: issuers: a scenario needs at least one issuer, in issuers or in trust');
    const jwk = { kid: 'AAAA', alg: 'ES256', kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' };
    expect(problems({ gate: VENUE, trust: { issuers: [{ id: 'cq.yukuaima', keys: [jwk] }] } })).toContain("trust.issuers.0.id: already one of the scenario's test issuers");
  });

  it('passes a mode section of the gate through to the gate settings, validated there', () => {
    expect(problems({ gate: { ...VENUE, venue: { dailyCapacity: 0 } } })).toContain('f.json: gate.venue.dailyCapacity:');
    const scenario = parseWith(scenarioSchema, { name: 'x', issuers: ISSUERS, gate: { ...VENUE, venue: { dailyCapacity: 40 } } }, 'f.json');
    expect(scenario.gate.venue).toEqual({ dailyCapacity: 40 });
  });
});

describe('scenario runner: the new passengers, events and expectations', () => {
  it('walk: n sends that many people through: fewer than granted leave the rest to the timeout, more are tailgaters', async () => {
    const run = await play({
      gate: VENUE,
      passengers: [
        { name: 'group of 3, two come', at: 0, code: ticket('g', 3), walk: 2 },
        { name: 'one ticket, three walk', at: 30, code: ticket('s', 1), walk: 3 },
        { name: 'nobody walks', at: 60, code: ticket('n', 1), walk: 0 },
      ],
    });
    const [group, crowd, nobody] = run.passengers;
    expect(group!.alarms).toEqual([]);
    // Opened for the first, again for the second and for the third who never came; closed by the timeout.
    expect(group!.barrier.map((a) => a.action)).toEqual(['open', 'open', 'open', 'close']);
    expectOpenTimeout(group!.barrier[3]!.at - group!.barrier[2]!.at);
    expect(crowd!.barrier.map((a) => a.action)).toEqual(['open', 'close']);
    expect(crowd!.alarms.map((a) => a.type)).toEqual(['tailgate', 'tailgate']);
    expect(nobody!.barrier.map((a) => a.action)).toEqual(['open', 'close']);
    expectOpenTimeout(nobody!.barrier[1]!.at - nobody!.barrier[0]!.at);
  });

  it('reports each unmet expectation by name: fare, category, place, openings, alarms and screen', async () => {
    const run = await play({
      gate: VENUE,
      passengers: [
        {
          name: 'wrong on every count',
          code: { ...ticket('w', 1), category: 'senior' },
          expect: 'accepted',
          expectFare: 100,
          expectCategory: 'student',
          expectPlace: { station: 'x' },
          expectOpenings: 2,
          expectAlarms: ['tailgate'],
          expectShown: ['学生卡'],
        },
        { name: 'right on every count', at: 20, code: { ...ticket('r', 1), category: 'senior' }, expect: 'accepted', expectFare: null, expectCategory: 'senior', expectPlace: null, expectOpenings: 1, expectAlarms: [], expectShown: ['老年卡', 'Senior'] },
      ],
    });
    const [wrong, right] = run.passengers;
    expect(wrong!.mismatch).toContain('expected fare 100, got null');
    expect(wrong!.mismatch).toContain('expected category student, got senior');
    expect(wrong!.mismatch).toContain('expected place {"station":"x"}, got null');
    expect(wrong!.mismatch).toContain('expected 2 barrier openings, got 1');
    expect(wrong!.mismatch).toContain('expected alarms ["tailgate"], got []');
    expect(wrong!.mismatch).toContain('expected the screen to show "学生卡"');
    expect(right!.mismatch).toBeUndefined();
  });

  it('applies events at their time: the mode changes for the taps after it, a stop the operator does not have is reported', async () => {
    const gate = { ...BUS, fares: { default: 200, byCategory: {} } };
    const run = await play({
      gate,
      passengers: [
        { name: 'on the bus', at: 0, card: { issuer: 'cq.yukuaima', number: 'C1' }, expect: 'accepted', expectPlace: { operator: 'cq-bus', route: '261' } },
        { name: 'at stop a', at: 10, event: 'stop', stop: 'a', route: '262' },
        { name: 'at stop a on 262', at: 11, card: { issuer: 'cq.yukuaima', number: 'C2' }, expect: 'accepted', expectPlace: { operator: 'cq-bus', route: '262', stop: 'a' } },
        { name: 'at stop z', at: 20, event: 'stop', stop: 'z' },
        { name: 'now a venue', at: 30, event: 'set-mode', mode: 'venue' },
        { name: 'at the venue', at: 31, card: { issuer: 'cq.yukuaima', number: 'C3' }, expect: 'accepted', expectPlace: null },
      ],
    });
    expect(run.passengers.map((p) => [p.name, p.mismatch])).toEqual([
      ['on the bus', undefined],
      ['at stop a on 262', undefined],
      ['at the venue', undefined],
    ]);
    expect(run.passengers.map((p) => p.outcomes[0]!.type === 'tap' && p.outcomes[0]!.tap.mode)).toEqual(['bus', 'bus', 'venue']);
    expect(run.events.map((e) => [e.name, e.mismatch])).toEqual([
      ['at stop a', undefined],
      ['at stop z', 'stop z not taken: stop z is not in the stop table of cq-bus'],
      ['now a venue', undefined],
    ]);
  });

  it('presents a UID card: where UID cards are not enabled it is a card without the CG application', async () => {
    const run = await play({ gate: VENUE, passengers: [{ name: 'badge', uid: '04A1B2C3D4E5F6', expect: 'card-not-supported', expectOpenings: 0 }] });
    const [badge] = run.passengers;
    expect(badge!.mismatch).toBeUndefined();
    expect(badge!.outcomes[0]!.type === 'tap' && badge!.outcomes[0]!.tap.kind).toBe('card');
  });
});
