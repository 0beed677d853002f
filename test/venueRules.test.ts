import { afterEach, describe, expect, it } from 'vitest';
import { gateSettingsSchema, parseWith } from '../src/app/settingsSchema.js';
import type { Product } from '../src/core/credentials/credential.js';
import { windowNote } from '../src/core/policy/windowNote.js';
import type { GateSettings } from '../src/core/settings.js';
import { VirtualCard } from '../sim/virtualCard.js';
import { gateFixture, nowSec, START, type GateFixture } from './gateFixture.js';

/*
 * Venues and scenic areas: group tickets through the gate and its passage
 * sensor, the daily capacity with its live count (kept over a restart, reset
 * at local midnight), the time slot shown on an outside-window refusal, and
 * annual passes.
 */

const SITE = 'cq-ciqikou';
/** Local wall time at the gate (Asia/Shanghai, UTC+8), epoch seconds. START is 2026-11-23 16:00 there. */
const localSec = (isoLocal: string): number => Date.parse(`${isoLocal}+08:00`) / 1000;

let fixture: GateFixture | undefined;
afterEach(() => {
  fixture?.dispose();
  fixture = undefined;
});

async function venue(overrides: Partial<GateSettings> = {}): Promise<GateFixture> {
  fixture = await gateFixture({ site: SITE, mode: 'venue', fares: undefined, ...overrides });
  return fixture;
}

function ticket(f: GateFixture, sub: string, product: Partial<Product> = {}): string {
  return f.issuer.issuerCode({ sub, iat: nowSec(f.board), product: { site: SITE, ...product } });
}

function opens(f: GateFixture): number {
  return f.board.barrier.actions.filter((a) => a.action === 'open').length;
}

/** Barrier close commands, the one at start included. */
function closes(f: GateFixture): number {
  return f.board.barrier.actions.filter((a) => a.action === 'close').length;
}

function reasons(f: GateFixture): string[] {
  return f.journal.taps().map((t) => t.reason);
}

describe('group tickets through the gate', () => {
  it('opens for a ticket of 3, stays open for three passages and closes after the third', async () => {
    const f = await venue();
    const alarms: string[] = [];
    f.gate.onAlarm((a) => alarms.push(a.type));
    await f.gate.presentCode(ticket(f, 'family-1', { entries: 3 }));
    expect(f.journal.taps()[0]).toMatchObject({ result: 'accepted', product: { site: SITE, entries: 3 } });
    expect(f.board.barrier.state()).toBe('open');
    f.board.passage.pass();
    f.board.clock.advance(3_000);
    f.board.passage.pass();
    expect(f.board.barrier.state()).toBe('open');
    expect(f.gate.currentState()).toBe('open');
    expect(closes(f)).toBe(1);
    f.board.passage.pass();
    expect(f.board.barrier.state()).toBe('closed');
    expect(f.gate.currentState()).toBe('idle');
    expect(closes(f)).toBe(2);
    expect(alarms).toEqual([]);
    f.board.passage.pass();
    expect(alarms).toEqual(['tailgate']);
  });

  it('gives each passage a fresh open time, and closes on the timeout with passages unused: they are lost', async () => {
    const f = await venue({ openTimeoutMs: 5_000 });
    const alarms: string[] = [];
    f.gate.onAlarm((a) => alarms.push(a.type));
    await f.gate.presentCode(ticket(f, 'family-2', { entries: 3 }));
    f.board.clock.advance(4_000);
    f.board.passage.pass();
    f.board.clock.advance(4_000);
    expect(f.board.barrier.state()).toBe('open');
    f.board.clock.advance(1_001);
    expect(f.board.barrier.state()).toBe('closed');
    f.board.passage.pass();
    expect(alarms).toEqual(['tailgate']);
    expect(f.decider.modeRules().live()).toMatchObject({ admitted: 3 });
  });

  it('shows how many may pass on the ticket', async () => {
    const f = await venue();
    const decision = f.decider.decideCode(ticket(f, 'family-3', { entries: 4 }), { nowMs: f.board.clock.now(), clockTrusted: true });
    expect(decision).toMatchObject({ result: 'accepted', passages: 4, note: [{ zh: '4 人通行', en: '4 people may pass' }] });
  });
});

describe('daily capacity', () => {
  it('counts passages today, refuses a group that does not fit whole, and keeps the count over a restart', async () => {
    const f = await venue({ venue: { dailyCapacity: 6 } });
    const decide = (text: string) => f.decider.decideCode(text, { nowMs: f.board.clock.now(), clockTrusted: true });
    expect(f.decider.modeRules().live()).toEqual({ date: null, admitted: 0, capacity: 6, remaining: 6 });
    expect(decide(ticket(f, 'probe', { entries: 3 }))).toMatchObject({ result: 'accepted', note: [{ en: '3 people may pass' }, { zh: '今日余量 3', en: 'Places left today 3' }] });

    await f.gate.presentCode(ticket(f, 'group-a', { entries: 3 }));
    for (let i = 0; i < 3; i++) f.board.passage.pass();
    await f.gate.presentCode(ticket(f, 'single-b'));
    f.board.passage.pass();
    expect(f.decider.modeRules().live()).toEqual({ date: '2026-11-23', admitted: 4, capacity: 6, remaining: 2 });

    const opened = opens(f);
    await f.gate.presentCode(ticket(f, 'group-c', { entries: 3 }));
    expect(reasons(f)).toEqual(['ok', 'ok', 'capacity-full']);
    expect(opens(f)).toBe(opened);
    expect(f.board.display.lines).toEqual([
      { zh: '禁止通行', en: 'Refused' },
      { zh: '今日名额已满', en: 'Full for today' },
      { zh: '今日余量 2', en: 'Places left today 2' },
    ]);

    const again = await f.restart();
    fixture = again;
    expect(again.decider.modeRules().live()).toEqual({ date: '2026-11-23', admitted: 4, capacity: 6, remaining: 2 });
    await again.gate.presentCode(ticket(again, 'pair-d', { entries: 2 }));
    again.board.passage.pass();
    again.board.passage.pass();
    await again.gate.presentCode(ticket(again, 'single-e'));
    expect(reasons(again).slice(-2)).toEqual(['ok', 'capacity-full']);
    expect(again.board.display.lines).toEqual([
      { zh: '禁止通行', en: 'Refused' },
      { zh: '今日名额已满', en: 'Full for today' },
    ]);
    expect(again.decider.modeRules().live()).toEqual({ date: '2026-11-23', admitted: 6, capacity: 6, remaining: 0 });
  });

  it('starts a new count at local midnight, not at UTC midnight', async () => {
    const f = await venue({ venue: { dailyCapacity: 1 } });
    await f.gate.presentCode(ticket(f, 'day-1'));
    f.board.passage.pass();
    // 16:00 -> 23:59 local (15:59 UTC): still the same day.
    f.board.clock.advance((7 * 60 + 59) * 60_000);
    await f.gate.presentCode(ticket(f, 'day-1-late'));
    // 00:01 local on the 24th (16:01 UTC on the 23rd): a new day.
    f.board.clock.advance(2 * 60_000);
    await f.gate.presentCode(ticket(f, 'day-2'));
    expect(reasons(f)).toEqual(['ok', 'capacity-full', 'ok']);
    expect(f.decider.modeRules().live()).toEqual({ date: '2026-11-24', admitted: 1, capacity: 1, remaining: 0 });
  });

  it('counts nothing for refused tickets', async () => {
    const f = await venue({ venue: { dailyCapacity: 5 } });
    await f.gate.presentCode(ticket(f, 'elsewhere', { site: 'cq-other', entries: 3 }));
    await f.gate.presentCode(ticket(f, 'used-up', { entries: 0 }));
    expect(reasons(f)).toEqual(['wrong-site', 'entries-used']);
    expect(f.decider.modeRules().live()).toMatchObject({ admitted: 0, remaining: 5 });
  });

  it('counts without a limit where no capacity is set', async () => {
    const f = await venue();
    await f.gate.presentCode(ticket(f, 'g', { entries: 2 }));
    expect(f.decider.modeRules().live()).toEqual({ date: '2026-11-23', admitted: 2, capacity: null, remaining: null });
  });
});

describe('time slot shown on an outside-window refusal', () => {
  it('shows today\'s slot in local time under the reason', async () => {
    const f = await venue();
    await f.gate.presentCode(ticket(f, 'slot-1', { from: localSec('2026-11-23T17:00:00'), until: localSec('2026-11-23T18:00:00') }));
    expect(reasons(f)).toEqual(['outside-window']);
    expect(f.board.display.lines).toEqual([
      { zh: '禁止通行', en: 'Refused' },
      { zh: '不在有效时段', en: 'Outside the valid time' },
      { zh: '入场时段 17:00–18:00', en: 'Entry 17:00–18:00' },
    ]);
  });

  it('shows the same slot in the time zone the gate is set to', async () => {
    const f = await venue({ timezone: 'Europe/Berlin' });
    await f.gate.presentCode(ticket(f, 'slot-2', { from: localSec('2026-11-23T17:00:00'), until: localSec('2026-11-23T18:00:00') }));
    expect(f.board.display.lines[2]).toEqual({ zh: '入场时段 10:00–11:00', en: 'Entry 10:00–11:00' });
  });

  it('admits inside the slot', async () => {
    const f = await venue();
    await f.gate.presentCode(ticket(f, 'slot-3', { from: localSec('2026-11-23T15:30:00'), until: localSec('2026-11-23T16:30:00') }));
    expect(reasons(f)).toEqual(['ok']);
  });

  const now = START;
  const tz = 'Asia/Shanghai';
  it.each([
    ['a slot on another day, with its date', { from: localSec('2026-11-24T10:00:00'), until: localSec('2026-11-24T11:00:00') }, { zh: '入场时段 2026-11-24 10:00–11:00', en: 'Entry 2026-11-24 10:00–11:00' }],
    ['a slot up to midnight', { from: localSec('2026-11-23T20:00:00'), until: localSec('2026-11-24T00:00:00') }, { zh: '入场时段 20:00–24:00', en: 'Entry 20:00–24:00' }],
    ['a window over days as dates, the last day inclusive', { from: localSec('2025-01-01T00:00:00'), until: localSec('2026-01-01T00:00:00') }, { zh: '有效期 2025-01-01–2025-12-31', en: 'Valid 2025-01-01–2025-12-31' }],
    ['an opening time only, today', { from: localSec('2026-11-23T18:00:00') }, { zh: '入场时段 18:00 起', en: 'Entry from 18:00' }],
    ['a closing time only, today', { until: localSec('2026-11-23T12:00:00') }, { zh: '入场时段 12:00 止', en: 'Entry until 12:00' }],
    ['a start on another day', { from: localSec('2026-12-01T09:00:00') }, { zh: '有效期 2026-12-01 起', en: 'Valid from 2026-12-01' }],
    ['an end on another day', { until: localSec('2026-11-01T09:00:00') }, { zh: '有效期至 2026-11-01', en: 'Valid until 2026-11-01' }],
  ])('writes %s', (_what, window, line) => {
    expect(windowNote({ entries: 1, ...window }, now, tz)).toEqual([line]);
  });

  it('leaves out a bound no date can hold, and writes nothing when both are', () => {
    expect(windowNote({ entries: 1, from: localSec('2026-11-23T18:00:00'), until: 1e20 }, now, tz)).toEqual([{ zh: '入场时段 18:00 起', en: 'Entry from 18:00' }]);
    expect(windowNote({ entries: 1, from: -1e20, until: 1e20 }, now, tz)).toEqual([]);
  });

  it('writes nothing for a product without a window', () => {
    expect(windowNote({ entries: 1 }, now, tz)).toEqual([]);
    expect(windowNote(undefined, now, tz)).toEqual([]);
  });
});

describe('annual passes', () => {
  const year = { site: SITE, from: localSec('2026-01-01T00:00:00'), until: localSec('2027-01-01T00:00:00') };

  it('a pass card (a year, entries absent) opens for one each time, on any day of its year', async () => {
    const f = await venue({ venue: { dailyCapacity: 100 } });
    const pass = VirtualCard.issue(f.issuer, 'PASS-2026-1', { iat: year.from, exp: year.until, product: year });
    f.board.reader.present(pass);
    await f.gate.settled();
    f.board.passage.pass();
    f.board.clock.advance(3 * 3_600_000);
    f.board.reader.present(pass);
    await f.gate.settled();
    f.board.passage.pass();
    f.board.clock.advance(2 * 86_400_000);
    f.board.reader.present(pass);
    await f.gate.settled();
    const taps = f.journal.taps();
    expect(taps.map((t) => [t.subject, t.reason, t.product?.entries])).toEqual([
      ['PASS-2026-1', 'ok', 1],
      ['PASS-2026-1', 'ok', 1],
      ['PASS-2026-1', 'ok', 1],
    ]);
    expect(opens(f)).toBe(3);
    expect(f.decider.modeRules().live()).toMatchObject({ date: '2026-11-25', admitted: 1 });
  });

  it('a pass shown as codes: each fresh code of the account is admitted, the same code twice is replayed', async () => {
    const f = await venue();
    const first = ticket(f, 'pass-holder-9', year);
    await f.gate.presentCode(first);
    f.board.passage.pass();
    f.board.clock.advance(86_400_000);
    await f.gate.presentCode(ticket(f, 'pass-holder-9', year));
    f.board.passage.pass();
    f.board.clock.advance(5_000);
    const text = ticket(f, 'pass-holder-9', year);
    await f.gate.presentCode(text);
    f.board.passage.pass();
    f.board.clock.advance(5_000);
    await f.gate.presentCode(text);
    expect(reasons(f)).toEqual(['ok', 'ok', 'ok', 'replayed']);
  });

  it('an expired pass is refused with its dates', async () => {
    const f = await venue();
    const lastYear = { site: SITE, from: localSec('2025-01-01T00:00:00'), until: localSec('2026-01-01T00:00:00') };
    await f.gate.presentCode(ticket(f, 'old-pass', lastYear));
    expect(reasons(f)).toEqual(['outside-window']);
    expect(f.board.display.lines[2]).toEqual({ zh: '有效期 2025-01-01–2025-12-31', en: 'Valid 2025-01-01–2025-12-31' });
  });
});

describe('venue config', () => {
  const gate = (venue: unknown) => ({ id: 'G1', site: SITE, mode: 'venue', venue });
  const errorOf = (input: unknown): string => {
    try {
      parseWith(gateSettingsSchema, input, 'gate.json');
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected the config to be refused');
  };

  it('reads the daily capacity, and a venue without one', () => {
    expect(parseWith(gateSettingsSchema, gate({ dailyCapacity: 5000 }), 'gate.json').venue).toEqual({ dailyCapacity: 5000 });
    expect(parseWith(gateSettingsSchema, gate({}), 'gate.json').venue).toEqual({});
    expect(parseWith(gateSettingsSchema, { id: 'G1', site: SITE, mode: 'venue' }, 'gate.json').venue).toBeUndefined();
  });

  it.each([
    [{ dailyCapacity: 0 }, 'gate.json: venue.dailyCapacity: a whole number of passages a day, 1 or more (got 0)'],
    [{ dailyCapacity: 2.5 }, 'gate.json: venue.dailyCapacity: a whole number of passages a day, 1 or more (got 2.5)'],
    [{ capacity: 10 }, 'gate.json: venue: Unrecognized key: "capacity"'],
  ])('names the field, the value and what is allowed: %j', (section, message) => {
    expect(errorOf(gate(section))).toContain(message);
  });
});
