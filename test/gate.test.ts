import { afterEach, describe, expect, it } from 'vitest';
import type { GateState } from '../src/core/gate.js';
import { TestHolder } from '../sim/issuer.js';
import { VirtualCard } from '../sim/virtualCard.js';
import { gateFixture, nowSec, START_SEC, type GateFixture } from './gateFixture.js';

let fixture: GateFixture | undefined;
afterEach(() => {
  fixture?.dispose();
  fixture = undefined;
});

async function setup(overrides = {}): Promise<GateFixture> {
  fixture = await gateFixture(overrides);
  return fixture;
}

function tapOf(f: GateFixture, i: number) {
  const o = f.outcomes[i];
  if (o?.type !== 'tap') throw new Error(`outcome ${i} is ${o?.type}, not a tap`);
  return o.tap;
}

describe('gate state machine', () => {
  it('goes idle -> deciding -> open -> idle for an accepted code, closing on the passage', async () => {
    const f = await setup();
    const states: GateState[] = [];
    f.gate.onState((s) => states.push(s));
    f.board.scanner.scan(f.issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) }));
    await f.gate.settled();
    expect(states).toEqual(['deciding', 'open']);
    expect(f.board.barrier.state()).toBe('open');
    expect(f.board.indicators.colour).toBe('green');
    expect(f.board.display.lines.map((l) => l.en)).toEqual(['Please pass', 'Adult', 'Fare ¥2.00']);
    f.board.passage.pass();
    expect(states).toEqual(['deciding', 'open', 'idle']);
    expect(f.board.barrier.actions.map((a) => a.action)).toEqual(['close', 'open', 'close']);
    expect(f.board.display.lines[0]!.en).toBe('Tap card or scan code');
  });

  it('reads a card before deciding', async () => {
    const f = await setup();
    const states: GateState[] = [];
    f.gate.onState((s) => states.push(s));
    f.board.reader.present(VirtualCard.issue(f.issuer, 'C-1', { iat: START_SEC - 86_400, category: 'senior' }));
    await f.gate.settled();
    expect(states).toEqual(['reading', 'deciding', 'open']);
    expect(tapOf(f, 0)).toMatchObject({ kind: 'card', subject: 'C-1', category: 'senior', fare: 0, result: 'accepted' });
  });

  it('closes the barrier when nobody passes before the open timeout', async () => {
    const f = await setup({ openTimeoutMs: 5_000 });
    f.board.scanner.scan(f.issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) }));
    await f.gate.settled();
    f.board.clock.advance(4_900);
    expect(f.board.barrier.state()).toBe('open');
    f.board.clock.advance(200);
    expect(f.board.barrier.state()).toBe('closed');
    expect(f.gate.currentState()).toBe('idle');
  });

  it('refuses with the reason on the display and a red light, without opening', async () => {
    const f = await setup();
    f.board.scanner.scan(f.issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) - 3600, exp: nowSec(f.board) - 1800 }));
    await f.gate.settled();
    expect(tapOf(f, 0)).toMatchObject({ result: 'refused', reason: 'expired', subject: 'acct-1', fare: null });
    expect(f.board.barrier.actions.map((a) => a.action)).toEqual(['close']);
    expect(f.board.indicators.colour).toBe('red');
    expect(f.board.indicators.tones).toEqual(['refuse']);
    expect(f.board.display.lines.map((l) => l.zh)).toEqual(['禁止通行', '已过期，请刷新']);
  });

  it('keeps the barrier open for as many passages as were granted', async () => {
    const f = await setup();
    f.board.scanner.scan(f.issuer.issuerCode({ sub: 'a', iat: nowSec(f.board) }));
    f.board.scanner.scan(f.issuer.issuerCode({ sub: 'b', iat: nowSec(f.board) }));
    await f.gate.settled();
    f.board.passage.pass();
    expect(f.board.barrier.state()).toBe('open');
    f.board.passage.pass();
    expect(f.board.barrier.state()).toBe('closed');
    // Commanded again for the second person (a turnstile takes one pulse each); a level barrier just stays open.
    expect(f.board.barrier.actions.map((a) => a.action)).toEqual(['close', 'open', 'open', 'close']);
  });

  it('raises a tailgating alarm for a passage nobody paid for', async () => {
    const f = await setup();
    const alarms: string[] = [];
    f.gate.onAlarm((a) => alarms.push(a.type));
    f.board.passage.pass();
    expect(alarms).toEqual(['tailgate']);
    expect(f.board.indicators.tones).toEqual(['alarm']);
  });
});

describe('double taps and replays', () => {
  it('treats the same card twice within the window as one tap, and later as a new tap', async () => {
    const f = await setup({ doubleTapMs: 3_000 });
    const card = VirtualCard.issue(f.issuer, 'C-7', { iat: START_SEC - 86_400 });
    f.board.reader.present(card);
    await f.gate.settled();
    f.board.clock.advance(1_000);
    f.board.reader.present(card);
    await f.gate.settled();
    expect(f.outcomes.map((o) => o.type)).toEqual(['tap', 'repeat']);
    expect(f.journal.taps()).toHaveLength(1);
    expect(f.board.barrier.actions.filter((a) => a.action === 'open')).toHaveLength(1);
    f.board.passage.pass();
    f.board.clock.advance(5_000);
    f.board.reader.present(card);
    await f.gate.settled();
    expect(f.outcomes.map((o) => o.type)).toEqual(['tap', 'repeat', 'tap']);
    expect(f.journal.taps().map((t) => t.fare)).toEqual([200, 200]);
  });

  it('treats the same code text twice within the window as one tap, and refuses it as replayed later', async () => {
    const f = await setup({ doubleTapMs: 3_000 });
    const text = f.issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) });
    f.board.scanner.scan(text);
    f.board.scanner.scan(text);
    await f.gate.settled();
    f.board.clock.advance(10_000);
    f.board.scanner.scan(text);
    await f.gate.settled();
    expect(f.outcomes.map((o) => o.type)).toEqual(['tap', 'repeat', 'tap']);
    expect(f.journal.taps().map((t) => t.reason)).toEqual(['ok', 'replayed']);
  });

  it('refuses a replayed offline code (same holder, iat and counter) but accepts the next one', async () => {
    const f = await setup({ doubleTapMs: 0 });
    const holder = TestHolder.enrol(f.issuer, { sub: 'h-1', iat: START_SEC - 86_400 });
    const code = holder.offlineCode(nowSec(f.board), { counter: 5 });
    f.board.scanner.scan(code);
    await f.gate.settled();
    f.board.clock.advance(2_000);
    f.board.scanner.scan(code);
    f.board.scanner.scan(holder.offlineCode(nowSec(f.board), { counter: 6 }));
    await f.gate.settled();
    expect(f.journal.taps().map((t) => t.reason)).toEqual(['ok', 'replayed', 'ok']);
  });

  it('remembers used codes across a restart', async () => {
    let f = await setup({ doubleTapMs: 0 });
    const text = f.issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) });
    f.board.scanner.scan(text);
    await f.gate.settled();
    f = fixture = await f.restart();
    f.board.scanner.scan(text);
    await f.gate.settled();
    expect(f.journal.taps().map((t) => [t.seq, t.reason])).toEqual([
      [1, 'ok'],
      [2, 'replayed'],
    ]);
  });
});

describe('barrier and journal', () => {
  it('commits the tap before the barrier command and reports it only after both', async () => {
    const f = await setup();
    const seen: string[] = [];
    const append = f.journal.append.bind(f.journal);
    f.journal.append = (draft, used) => {
      seen.push(`append with barrier ${f.board.barrier.state()}`);
      return append(draft, used);
    };
    const open = f.board.barrier.open.bind(f.board.barrier);
    f.board.barrier.open = () => {
      seen.push(`barrier open with ${f.journal.lastTapSeq()} rows`);
      return open();
    };
    f.gate.onOutcome(() => seen.push(`outcome after ${f.journal.lastTapSeq()} rows`));
    f.board.scanner.scan(f.issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) }));
    await f.gate.settled();
    expect(seen).toEqual(['append with barrier closed', 'barrier open with 1 rows', 'outcome after 1 rows']);
  });

  it('keeps the barrier shut and reports no tap when the journal refuses the row, and sees the journal back without a passenger', async () => {
    const f = await setup();
    const alarms: string[] = [];
    let healthChanges = 0;
    f.gate.onAlarm((a) => alarms.push(a.type));
    f.gate.onHealthChange(() => healthChanges++);
    let failing = true;
    const append = f.journal.append.bind(f.journal);
    const setMeta = f.journal.setMetaValue.bind(f.journal);
    f.journal.append = (draft, used) => {
      if (failing) throw new Error('SQLITE_FULL: database or disk is full');
      return append(draft, used);
    };
    f.journal.setMetaValue = (key, value) => {
      if (failing) throw new Error('SQLITE_FULL: database or disk is full');
      setMeta(key, value);
    };
    f.board.scanner.scan(f.issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) }));
    await f.gate.settled();
    expect(f.outcomes).toMatchObject([{ type: 'unjournaled', error: expect.stringMatching(/SQLITE_FULL/) }]);
    expect(f.board.barrier.actions.map((a) => a.action)).not.toContain('open');
    expect(alarms).toEqual(['journal-unavailable']);
    expect(f.board.display.lines[1]!.en).toBe('Gate fault, please ask staff');
    expect([f.gate.journalWorking(), healthChanges]).toEqual([false, 1]);

    // Still failing: the probe keeps trying; once space is back the gate sees it with nobody at the gate.
    f.board.clock.advance(5_000);
    expect(f.gate.journalWorking()).toBe(false);
    failing = false;
    f.board.clock.advance(5_000);
    expect([f.gate.journalWorking(), healthChanges]).toEqual([true, 2]);

    f.board.scanner.scan(f.issuer.issuerCode({ sub: 'acct-2', iat: nowSec(f.board) }));
    await f.gate.settled();
    expect(f.board.barrier.state()).toBe('open');
    expect(f.journal.taps().map((t) => [t.seq, t.subject])).toEqual([[1, 'acct-2']]);
  });

  it('records a card that leaves before INTERNAL AUTHENTICATE as one card-removed tap with no barrier action', async () => {
    const f = await setup();
    f.board.reader.present(VirtualCard.issue(f.issuer, 'C-9', { iat: START_SEC - 86_400 }), { removeAfterApdus: 2 });
    await f.gate.settled();
    expect(f.journal.taps()).toMatchObject([{ kind: 'card', result: 'refused', reason: 'card-removed', fare: null }]);
    expect(f.board.barrier.actions.map((a) => a.action)).toEqual(['close']);
  });

  it('a clone tapped right after the genuine card is a card-auth-failed tap, not a repeat; the genuine card right after a clone is accepted', async () => {
    const f = await setup();
    const genuine = VirtualCard.issue(f.issuer, 'C-7', { iat: START_SEC - 86_400 });
    f.board.reader.present(genuine);
    await f.gate.settled();
    f.board.reader.present(genuine.clone());
    await f.gate.settled();
    const other = VirtualCard.issue(f.issuer, 'C-8', { iat: START_SEC - 86_400 });
    f.board.reader.present(other.clone());
    await f.gate.settled();
    f.board.reader.present(other);
    await f.gate.settled();
    expect(f.journal.taps().map((t) => [t.subject, t.reason])).toEqual([
      ['C-7', 'ok'],
      ['C-7', 'card-auth-failed'],
      ['C-8', 'card-auth-failed'],
      ['C-8', 'ok'],
    ]);
    // The genuine card's own double tap is still one tap.
    f.board.reader.present(other);
    await f.gate.settled();
    expect(f.journal.taps()).toHaveLength(4);
  });

  it('refuses codes while the clock is untrusted but keeps taking cards', async () => {
    const f = await setup();
    f.board.clock.setTrusted(false);
    f.board.scanner.scan(f.issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) }));
    f.board.reader.present(VirtualCard.issue(f.issuer, 'C-2', { iat: START_SEC - 86_400 }));
    await f.gate.settled();
    expect(f.journal.taps().map((t) => [t.kind, t.reason])).toEqual([
      ['code', 'clock-untrusted'],
      ['card', 'ok'],
    ]);
  });

  it('reports a refused deny-listed holder with who it was', async () => {
    const f = await setup();
    f.denyList.add('cq.yukuaima', 'acct-lost');
    f.board.scanner.scan(f.issuer.issuerCode({ sub: 'acct-lost', iat: nowSec(f.board) }));
    await f.gate.settled();
    expect(f.journal.taps()).toMatchObject([{ reason: 'deny-listed', issuer: 'cq.yukuaima', subject: 'acct-lost', category: 'adult' }]);
  });
});
