import { afterEach, describe, expect, it } from 'vitest';
import { metroSchema } from '../src/app/rules/metroSchema.js';
import { gateSettingsSchema, parseWith } from '../src/app/settingsSchema.js';
import type { Credential } from '../src/core/credentials/credential.js';
import type { Outcome } from '../src/core/gate.js';
import { MetroRules } from '../src/core/policy/metroRules.js';
import type { Tap } from '../src/core/tap.js';
import { VirtualCard } from '../sim/virtualCard.js';
import { gateFixture, nowSec, START, START_SEC, type GateFixture } from './gateFixture.js';

/* Metro gates of station Jiefangbei on the simulated board; the clock starts at 16:00 in Chongqing. */
const fixtures: GateFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.dispose();
});

async function metro(mode: 'metro-entry' | 'metro-exit', section: object = { station: 'JFB' }): Promise<GateFixture> {
  const f = await gateFixture({ mode, metro: metroSchema.parse(section) });
  fixtures.push(f);
  return f;
}

function tapOf(outcome: Outcome): Tap {
  if (outcome.type !== 'tap') throw new Error(`outcome is ${outcome.type}, not a tap`);
  return outcome.tap;
}

/** The passenger screen (English) at the last presentation, before walking through. */
let screen: string[] = [];

async function enter(f: GateFixture, sub: string, category: Credential['category'] = 'adult'): Promise<Tap> {
  const tap = tapOf(await f.gate.presentCode(f.issuer.issuerCode({ sub, iat: nowSec(f.board), category })));
  screen = f.board.display.lines.map((l) => l.en);
  if (tap.result === 'accepted') f.board.passage.pass();
  return tap;
}

const MINUTE = 60_000;

describe('metro entry gate', () => {
  it('refuses a second entry of the same holder within the window, naming the holder; others pass', async () => {
    const f = await metro('metro-entry');
    expect(await enter(f, 'acct-1')).toMatchObject({ result: 'accepted', mode: 'metro-entry', fare: null, place: { station: 'JFB' } });
    f.board.clock.advance(10 * MINUTE);
    expect(await enter(f, 'acct-1')).toMatchObject({ result: 'refused', reason: 'passback', issuer: 'cq.yukuaima', subject: 'acct-1', place: { station: 'JFB' } });
    expect(screen).toEqual(['Refused', 'Already entered']);
    expect(f.board.barrier.state()).toBe('closed');
    expect(await enter(f, 'acct-2')).toMatchObject({ result: 'accepted' });
  });

  it('knows a card by its number: the same card again after the double-tap time is passback', async () => {
    const f = await metro('metro-entry');
    const card = VirtualCard.issue(f.issuer, 'C-7', { iat: START_SEC - 86_400 });
    f.board.reader.present(card);
    await f.gate.settled();
    f.board.passage.pass();
    f.board.clock.advance(5_000);
    f.board.reader.present(card);
    await f.gate.settled();
    expect(f.outcomes.map((o) => (o.type === 'tap' ? [o.tap.kind, o.tap.result, o.tap.reason] : o.type))).toEqual([
      ['card', 'accepted', 'ok'],
      ['card', 'refused', 'passback'],
    ]);
  });

  it('still refuses after a restart: entries are learnt again from the journal', async () => {
    const f = await metro('metro-entry');
    await enter(f, 'acct-1');
    f.board.clock.advance(30 * MINUTE);
    const after = await f.restart();
    fixtures.push(after);
    expect(await enter(after, 'acct-1')).toMatchObject({ result: 'refused', reason: 'passback' });
    expect(await enter(after, 'acct-2')).toMatchObject({ result: 'accepted' });
  });

  it('admits the holder again once the window has passed since the entry', async () => {
    const f = await metro('metro-entry', { station: 'JFB', passbackMin: 30 });
    await enter(f, 'acct-1');
    f.board.clock.advance(29 * MINUTE);
    expect(await enter(f, 'acct-1')).toMatchObject({ reason: 'passback' });
    f.board.clock.advance(1 * MINUTE);
    expect(await enter(f, 'acct-1')).toMatchObject({ result: 'accepted' });
    // The refused attempt did not restart the window; the new entry does.
    f.board.clock.advance(29 * MINUTE);
    expect(await enter(f, 'acct-1')).toMatchObject({ reason: 'passback' });
  });

  it('an exit seen by this gate (a reversible gate set to exit) ends the journey', async () => {
    const f = await metro('metro-entry');
    await enter(f, 'acct-1');
    f.board.clock.advance(20 * MINUTE);
    f.gate.setMode('metro-exit');
    expect(await enter(f, 'acct-1')).toMatchObject({ result: 'accepted', mode: 'metro-exit', fare: null, place: { station: 'JFB' } });
    f.gate.setMode('metro-entry');
    f.board.clock.advance(1 * MINUTE);
    expect(await enter(f, 'acct-1')).toMatchObject({ result: 'accepted', mode: 'metro-entry' });
    expect(await enter(f, 'acct-1')).toMatchObject({ result: 'refused', reason: 'passback' });
  });

  it('charges nothing unless fares are configured; then at entry only', async () => {
    const entry = await metro('metro-entry', { station: 'JFB', fares: { default: 200, rules: [{ category: 'senior', fare: 0 }] } });
    expect(await enter(entry, 'acct-1')).toMatchObject({ fare: 200 });
    expect(await enter(entry, 'acct-2', 'senior')).toMatchObject({ fare: 0 });
    const exit = await metro('metro-exit', { station: 'JFB', fares: { default: 200, rules: [] } });
    expect(await enter(exit, 'acct-1')).toMatchObject({ fare: null, place: { station: 'JFB' } });
  });

  it('counts entries at its own station only', () => {
    const settings = { timezone: 'Asia/Shanghai' } as never;
    const rules = new MetroRules('entry', metroSchema.parse({ station: 'JFB' }), settings);
    const credential = { issuer: 'cq.yukuaima', subject: 'acct-1', category: 'adult', product: undefined } as Credential;
    const entryAt = (station: string): Tap => ({ at: new Date(START).toISOString(), mode: 'metro-entry', result: 'accepted', issuer: 'cq.yukuaima', subject: 'acct-1', place: { station } }) as Tap;
    rules.record(entryAt('XSZ'));
    expect(rules.admit(credential, START + MINUTE)).toEqual({ fare: undefined, passages: 1 });
    rules.record(entryAt('JFB'));
    expect(() => rules.admit(credential, START + MINUTE)).toThrow(/^passback: entered JFB at 16:00 \(1 min ago, window 120 min\) with no exit since$/);
  });
});

describe('metro exit gate', () => {
  it('admits and records the station for the back office to price the journey', async () => {
    const f = await metro('metro-exit');
    expect(await enter(f, 'acct-1')).toMatchObject({ result: 'accepted', mode: 'metro-exit', fare: null, place: { station: 'JFB' } });
    f.board.clock.advance(MINUTE);
    expect(await enter(f, 'acct-1')).toMatchObject({ result: 'accepted' });
  });
});

function configError(section: object): string {
  try {
    parseWith(gateSettingsSchema, { id: 'M-1', site: 'cq-metro', mode: 'metro-entry', metro: section }, 'config.json');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('metro schema', () => {
  it('defaults the passback window to 120 minutes', () => {
    expect(parseWith(gateSettingsSchema, { id: 'M-1', site: 'cq-metro', mode: 'metro-entry', metro: { station: 'JFB' } }, 'config.json').metro).toEqual({ station: 'JFB', passbackMin: 120, fares: undefined });
  });

  it('names the field, the value and what is allowed', () => {
    expect(configError({})).toBe('config.json: metro.station: Invalid input: expected string, received undefined');
    expect(configError({ station: 'JFB', passbackMin: 0 })).toBe('config.json: metro.passbackMin: whole minutes, 1 ... 1440 (got 0)');
    expect(configError({ station: 'JFB', passbackMin: 2000 })).toBe('config.json: metro.passbackMin: whole minutes, 1 ... 1440 (got 2000)');
    expect(configError({ station: 'JFB', fares: { default: 200, byRoute: { L2: 300 } } })).toMatch(/^config\.json: metro\.fares: Unrecognized key: "byRoute"/);
    expect(configError({ station: 'JFB', fares: { default: 200, rules: [{ category: 'elder', fare: 0 }] } })).toMatch(/^config\.json: metro\.fares\.rules\.0\.category: .*"senior".* \(got "elder"\)$/);
  });
});
