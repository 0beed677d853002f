import { afterEach, describe, expect, it } from 'vitest';
import { busSchema } from '../src/app/rules/busSchema.js';
import { gateSettingsSchema, parseWith } from '../src/app/settingsSchema.js';
import type { Credential } from '../src/core/credentials/credential.js';
import type { Outcome } from '../src/core/gate.js';
import { applyLocation } from '../src/core/policy/busLocation.js';
import { BusRules } from '../src/core/policy/busRules.js';
import type { Tap } from '../src/core/tap.js';
import { gateFixture, nowSec, START, type GateFixture } from './gateFixture.js';

/*
 * A bus validator on the simulated board. The fixture's clock starts on
 * Monday 23 November 2026, 16:00 in Chongqing: within the off-peak hours below.
 */
const BUS = {
  operator: 'cqbus',
  route: '818',
  stop: 'S1',
  fares: {
    default: 200,
    byRoute: { '818': 300 },
    rules: [
      { category: 'senior', fare: 0, hours: [{ from: '09:00', until: '17:00' }] },
      { category: 'student', percent: 50 },
      { category: 'disabled', fare: 0 },
    ],
  },
  transfer: { windowMin: 60, discount: 100 },
  stops: [
    { id: 'S1', name: '解放碑', lat: 29.5576, lon: 106.577 },
    { id: 'S2', name: '小什字', lat: 29.5666, lon: 106.577 },
  ],
};

const fixtures: GateFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.dispose();
});

async function bus(section: object = BUS): Promise<GateFixture> {
  const f = await gateFixture({ mode: 'bus', bus: busSchema.parse(section) });
  fixtures.push(f);
  return f;
}

function tapOf(outcome: Outcome): Tap {
  if (outcome.type !== 'tap') throw new Error(`outcome is ${outcome.type}, not a tap`);
  return outcome.tap;
}

/** The passenger screen (English) at the last boarding, before the passenger walked through. */
let screen: string[] = [];

async function board(f: GateFixture, sub: string, category: Credential['category'] = 'adult'): Promise<Tap> {
  const tap = tapOf(await f.gate.presentCode(f.issuer.issuerCode({ sub, iat: nowSec(f.board), category })));
  screen = f.board.display.lines.map((l) => l.en);
  f.board.passage.pass();
  return tap;
}

describe('bus fares through the gate', () => {
  it('charges by route and category, records the fare and shows it with the category', async () => {
    const f = await bus();
    expect(await board(f, 'a-1')).toMatchObject({ mode: 'bus', category: 'adult', fare: 300, result: 'accepted' });
    expect(screen).toEqual(['Please pass', 'Adult', 'Fare ¥3.00']);
    expect(await board(f, 's-1', 'student')).toMatchObject({ category: 'student', fare: 150 });
    expect(await board(f, 'o-1', 'senior')).toMatchObject({ category: 'senior', fare: 0 });
    expect(screen.slice(0, 3)).toEqual(['Please pass', 'Senior', 'Fare ¥0.00']);
    f.board.clock.advance(61 * 60_000);
    // 17:01: the senior's off-peak rule no longer holds.
    expect(await board(f, 'o-2', 'senior')).toMatchObject({ category: 'senior', fare: 300 });
  });

  it('tells the decision why a fare is reduced, for the driver', async () => {
    const f = await bus();
    const decision = f.decider.decideCode(f.issuer.issuerCode({ sub: 'o-1', iat: nowSec(f.board), category: 'senior' }), { nowMs: f.board.clock.now(), clockTrusted: true });
    expect(decision).toMatchObject({ result: 'accepted', fare: 0, note: [{ zh: '平峰优惠', en: 'Off-peak concession' }] });
  });

  it('without its own fares, a bus charges the gate fare table; without any, nothing', async () => {
    const f = await bus({ operator: 'cqbus', route: '818' });
    expect(await board(f, 'o-1', 'senior')).toMatchObject({ fare: 0 });
    expect(await board(f, 'a-1')).toMatchObject({ fare: 200 });
    const free = await gateFixture({ mode: 'bus', fares: undefined, bus: busSchema.parse({ operator: 'cqbus', route: 'T1' }) });
    fixtures.push(free);
    expect(await board(free, 'a-1')).toMatchObject({ fare: null, result: 'accepted' });
  });
});

describe('route and stop on every tap', () => {
  it('records the configured route and stop, then what the console and the GPS report', async () => {
    const f = await bus();
    expect((await board(f, 'a-1')).place).toEqual({ operator: 'cqbus', route: '818', stop: 'S1' });
    const rules = f.decider.modeRules('bus');
    expect(applyLocation({ type: 'route', route: '401' }, rules)).toEqual({ applied: true, place: { operator: 'cqbus', route: '401', stop: 'S1' } });
    expect(applyLocation({ type: 'stop', stop: 'S9' }, rules)).toEqual({ applied: false, why: 'stop S9 is not in the stop table of cqbus' });
    // About 20 m from S2, with a fix.
    expect(applyLocation({ type: 'position', lat: 29.56642, lon: 106.577, fixed: true }, rules)).toMatchObject({ applied: true, place: { stop: 'S2' } });
    expect((await board(f, 'a-2')).place).toEqual({ operator: 'cqbus', route: '401', stop: 'S2' });
    // A refused tap carries the place too.
    const refused = tapOf(await f.gate.presentCode('CG1:garbage'));
    expect(refused).toMatchObject({ result: 'refused', place: { operator: 'cqbus', route: '401', stop: 'S2' } });
    expect(applyLocation({ type: 'position', lat: 29.5576, lon: 106.577, fixed: false }, rules)).toEqual({ applied: false, why: 'the receiver has no fix' });
    expect(applyLocation({ type: 'stop', stop: 'S1', route: '818' }, rules)).toEqual({ applied: true, place: { operator: 'cqbus', route: '818', stop: 'S1' } });
    expect((await board(f, 'a-3')).place).toEqual({ operator: 'cqbus', route: '818', stop: 'S1' });
  });

  it('a stop without a stop table is taken as the console says; positions cannot be placed', async () => {
    const f = await bus({ operator: 'cqbus', route: '818' });
    const rules = f.decider.modeRules('bus');
    expect(applyLocation({ type: 'stop', stop: 'S12' }, rules)).toEqual({ applied: true, place: { operator: 'cqbus', route: '818', stop: 'S12' } });
    expect(applyLocation({ type: 'position', lat: 29.5576, lon: 106.577, fixed: true }, rules)).toEqual({ applied: false, why: 'no stop table (gate.bus.stops) to place a position in' });
  });

  it('a gate without a bus section has nothing to place', async () => {
    const f = await gateFixture({ mode: 'bus' });
    fixtures.push(f);
    expect(applyLocation({ type: 'route', route: '818' }, f.decider.modeRules('bus'))).toEqual({ applied: false, why: 'no gate.bus section: the bus mode has no route or stop to set' });
    expect((await board(f, 'a-1')).place).toBeNull();
  });
});

describe('transfer discount', () => {
  it('takes the discount off a boarding on another route of the operator within the window', async () => {
    const f = await bus();
    const rules = f.decider.modeRules('bus');
    expect(await board(f, 'h-1')).toMatchObject({ fare: 300 });
    expect(await board(f, 'h-2', 'student')).toMatchObject({ fare: 150 });
    f.board.clock.advance(40 * 60_000);
    applyLocation({ type: 'route', route: '401' }, rules);
    expect(await board(f, 'h-1')).toMatchObject({ fare: 100, place: { route: '401' } });
    // After the category rule: half of 200, then 100 off.
    expect(await board(f, 'h-2', 'student')).toMatchObject({ fare: 0 });
    // Someone who boarded nothing before pays in full.
    expect(await board(f, 'h-3')).toMatchObject({ fare: 200 });
  });

  it('gives no discount on the same route, or outside the window', async () => {
    const f = await bus();
    const rules = f.decider.modeRules('bus');
    expect(await board(f, 'h-1')).toMatchObject({ fare: 300 });
    f.board.clock.advance(10 * 60_000);
    expect(await board(f, 'h-1')).toMatchObject({ fare: 300 });
    f.board.clock.advance(60 * 60_000);
    applyLocation({ type: 'route', route: '401' }, rules);
    // 60 minutes after the second boarding, 70 after the first: outside the window.
    expect(await board(f, 'h-1')).toMatchObject({ fare: 200 });
  });

  it('a transfer fare instead of a discount, and the discount shown', async () => {
    const f = await bus({ ...BUS, transfer: { windowMin: 30, fare: 0 } });
    await board(f, 'h-1');
    f.board.clock.advance(29 * 60_000);
    applyLocation({ type: 'route', route: '401' }, f.decider.modeRules('bus'));
    const decision = f.decider.decideCode(f.issuer.issuerCode({ sub: 'h-1', iat: nowSec(f.board) }), { nowMs: f.board.clock.now(), clockTrusted: true });
    expect(decision).toMatchObject({ result: 'accepted', fare: 0, note: [{ zh: '换乘优惠', en: 'Transfer discount' }] });
  });

  it('remembers boardings across a restart, from the journal', async () => {
    const f = await bus();
    expect(await board(f, 'h-1')).toMatchObject({ fare: 300 });
    f.board.clock.advance(20 * 60_000);
    const after = await f.restart();
    fixtures.push(after);
    applyLocation({ type: 'route', route: '401' }, after.decider.modeRules('bus'));
    expect(await board(after, 'h-1')).toMatchObject({ fare: 100 });
  });

  it('counts only boardings of its own operator', () => {
    const settings = { timezone: 'Asia/Shanghai', fares: undefined } as never;
    const rules = new BusRules(busSchema.parse({ ...BUS, route: '401' }), settings);
    const tap = (operator: string): Tap =>
      ({ at: new Date(START).toISOString(), mode: 'bus', result: 'accepted', issuer: 'cq.yukuaima', subject: 'h-1', place: { operator, route: '818' } }) as Tap;
    const credential = { issuer: 'cq.yukuaima', subject: 'h-1', category: 'adult', product: undefined } as Credential;
    rules.record(tap('kxbus'));
    expect(rules.admit(credential, START + 60_000).fare).toBe(200);
    rules.record(tap('cqbus'));
    expect(rules.admit(credential, START + 60_000).fare).toBe(100);
  });
});

function configError(section: object): string {
  try {
    parseWith(gateSettingsSchema, { id: 'BUS-1', site: 'cq-bus', mode: 'bus', bus: section }, 'config.json');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('bus schema', () => {
  it('names the field, the value and what is allowed', () => {
    expect(configError({ ...BUS, stop: 'S7' })).toBe('config.json: bus.stop: not in the stop table; allowed: S1, S2 (got "S7")');
    expect(configError({ ...BUS, stops: [BUS.stops[0], BUS.stops[0]] })).toBe('config.json: bus.stops.1.id: stop S1 is in the table twice (got "S1")');
    expect(configError({ ...BUS, transfer: { windowMin: 60, discount: 100, fare: 0 } })).toBe(
      'config.json: bus.transfer.discount: a transfer has exactly one of discount (fen off the fare) and fare (fen) (got 100)',
    );
    expect(configError({ ...BUS, transfer: { windowMin: 0, fare: 0 } })).toBe('config.json: bus.transfer.windowMin: the transfer window: whole minutes, 1 ... 1440 (got 0)');
    expect(configError({ ...BUS, stops: [{ id: 'S1', name: 'x', lat: 106.577, lon: 29.5576 }] })).toMatch(/^config\.json: bus\.stops\.0\.lat: a latitude in degrees, -90 \.\.\. 90 \(WGS-84, north positive\) \(got 106\.577\)$/m);
    expect(configError({ operator: 'cqbus' })).toBe('config.json: bus.route: Invalid input: expected string, received undefined');
    expect(configError({ ...BUS, route: '818 路' })).toBe('config.json: bus.route: letters, digits, ".", "_" or "-", 1 to 32 characters (got "818 路")');
    expect(configError({ ...BUS, fare: 200 })).toMatch(/^config\.json: bus: Unrecognized key: "fare"/);
  });
});
