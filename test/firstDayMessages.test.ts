import { describe, expect, it } from 'vitest';
import { SystemClock, type ClockHealth, type RtcReading } from '../hal/systemClock.js';
import { TestIssuer } from '../sim/issuer.js';
import { brokerForFile, cleanupAfterEach } from './support/cleanups.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';

/*
 * What a gate says when something happened elsewhere: a code used at another
 * gate of the site, and a wall clock that jumped. The words name the real
 * cause, not a nearby one ("already used at this gate", "NTP not
 * synchronized").
 */

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const broker = brokerForFile();
const defer = cleanupAfterEach();

async function syncGate(gateId: string): Promise<SyncGate> {
  const gate = await startSyncGate({ url: broker().url, gateId, site: 'words-site', issuers: [issuer], fleet: [] });
  defer(() => gate.dispose());
  return gate;
}

/** Present a code; the refusal's detail (from the gate's log) and what the display showed. */
async function refusal(gate: SyncGate, code: string): Promise<{ reason: string; detail: unknown; screen: string[] }> {
  const outcome = await gate.gate.presentCode(code);
  if (outcome.type !== 'tap') throw new Error(`no tap: ${outcome.type}`);
  const refused = gate.log.lines.filter((line) => line.message === 'refused').at(-1);
  return { reason: outcome.tap.reason, detail: refused?.fields.detail, screen: gate.board.display.lines.map((line) => `${line.zh} / ${line.en}`) };
}

describe('a code used at another gate of the site', () => {
  it('is refused at gate B saying it was used at gate A, and on the display too; at A itself it is simply used', async () => {
    const a = await syncGate('WORDS-A');
    const b = await syncGate('WORDS-B');
    const code = issuer.issuerCode({ sub: 'acct-words', iat: a.nowSec() });
    const first = await a.gate.presentCode(code);
    expect(first.type === 'tap' && first.tap.reason).toBe('ok');
    await waitFor(() => b.replay.size() > 0, 'B learned the used code from the site');

    const atB = await refusal(b, code);
    expect(atB.reason).toBe('replayed');
    expect(atB.detail).toBe('code already used at gate WORDS-A of this site');
    expect(atB.screen).toContain('已在闸机 WORDS-A 使用 / Used at gate WORDS-A');

    a.board.clock.advanceTo(a.board.clock.monotonic() + 4_000);
    const atA = await refusal(a, code);
    expect(atA.reason).toBe('replayed');
    expect(atA.detail).toBe('code already used');
    expect(atA.screen.some((line) => line.includes('Used at gate'))).toBe(false);
  });
});

describe('a wall clock that jumped', () => {
  const TRUE_TIME = Date.parse('2026-11-24T08:00:00Z');

  function board(rtc?: () => RtcReading) {
    const time = { wallOffset: 0, mono: 1_000 };
    const health: ClockHealth[] = [];
    let synchronized = true;
    const clock = new SystemClock(
      { toleranceMs: 2000, checkIntervalMs: 60_000 },
      {
        rtc: rtc && { description: 'test RTC', read: async () => rtc(), write: async () => undefined, close: async () => undefined },
        // NTP was synchronized before the jump, and has not synchronized since.
        ntpSynchronized: async (since) => synchronized && since === undefined,
        onHealth: (h) => health.push(h),
        wallNow: () => TRUE_TIME + time.mono + time.wallOffset,
        monotonicNow: () => time.mono,
      },
    );
    return { clock, time, health, lose: () => (synchronized = false) };
  }

  it.each([
    ['without an RTC', undefined, /^wall time untrusted: it jumped by -3600 s at 2026-11-24T07:00:31\.000Z, and NTP has not confirmed the time since; no RTC to check it against$/],
    ['with an RTC that disagrees', () => ({ ok: true as const, ms: TRUE_TIME }), /^wall time untrusted: it jumped by -3600 s at .*, and NTP has not confirmed the time since; system time is -?\d+ ms off test RTC/],
  ])('%s: the alarm after the judgement still names the jump, not only NTP', async (_name, rtc, words) => {
    const b = board(rtc);
    await b.clock.check();
    expect(b.clock.trusted()).toBe(true);
    b.time.mono += 30_000;
    b.time.wallOffset -= 3_600_000;
    expect(b.clock.trusted()).toBe(false);
    await b.clock.check();
    const last = b.health.at(-1)!;
    expect(last.healthy).toBe(false);
    expect(last.detail).toMatch(words);
    expect(last.detail).not.toMatch(/^wall time untrusted: NTP not synchronized/);
  });

  it('without a jump, an unsynchronized clock is still said to be NTP not synchronized', async () => {
    const b = board();
    b.lose();
    await b.clock.check();
    expect(b.health.at(-1)).toEqual({ healthy: false, detail: 'wall time untrusted: NTP not synchronized and no RTC' });
  });
});
