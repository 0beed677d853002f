import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock, systemdNtpStatus, type ClockHealth, type RealTimeClock, type RtcReading } from '../hal/systemClock.js';

/*
 * Wall time that jumps against monotonic time between two judgements stops
 * being trusted at once, and is trusted again only on a fresh judgement:
 * NTP synchronized since the jump, or the RTC agreeing.
 */

const TRUE_TIME = Date.parse('2026-11-24T08:00:00Z');
const HOUR = 3_600_000;

function rtcReading(reading: () => RtcReading): RealTimeClock {
  return { description: 'test RTC', read: async () => reading(), write: async () => undefined, close: async () => undefined };
}

function board(options: { ntp: (since: number | undefined) => boolean; rtc?: () => RtcReading }) {
  const time = { wallOffset: 0, mono: 1_000 };
  const health: ClockHealth[] = [];
  const ntpAsked: (number | undefined)[] = [];
  const clock = new SystemClock(
    { toleranceMs: 2000, checkIntervalMs: 60_000 },
    {
      rtc: options.rtc && rtcReading(options.rtc),
      ntpSynchronized: async (since) => {
        ntpAsked.push(since);
        return options.ntp(since);
      },
      onHealth: (h) => health.push(h),
      wallNow: () => TRUE_TIME + time.mono + time.wallOffset,
      monotonicNow: () => time.mono,
    },
  );
  return { clock, time, health, ntpAsked };
}

describe('wall clock jumps', () => {
  it.each([
    ['back', -HOUR],
    ['forward', HOUR],
  ])('a jump %s by an hour is untrusted at the very next look, before any scheduled check, and NTP must confirm after it', async (_way, jump) => {
    // Like the flag file: a synchronization vouches for the time after a jump if it happened since, and not "in the future".
    let synchronizedAt = TRUE_TIME;
    const b = board({ ntp: (since) => synchronizedAt >= (since ?? 0) && synchronizedAt <= b.clock.now() });
    await b.clock.check();
    expect(b.clock.trusted()).toBe(true);

    b.time.mono += 30_000;
    expect(b.clock.trusted()).toBe(true);
    b.time.wallOffset += jump;
    expect(b.clock.trusted()).toBe(false);
    expect(b.health.at(-1)).toEqual({ healthy: false, detail: `wall time untrusted: it jumped by ${jump / 1000} s; waiting for NTP or the RTC to confirm it` });

    // A synchronization from before the jump does not vouch for the time after it.
    await b.clock.check();
    expect(b.ntpAsked.at(-1)).toBe(TRUE_TIME + b.time.mono + b.time.wallOffset);
    expect(b.clock.trusted()).toBe(false);

    synchronizedAt = b.clock.now() + 1;
    b.time.mono += 10;
    await b.clock.check();
    expect(b.clock.trusted()).toBe(true);
    // The judgement took the new time as the reference: no second jump is seen.
    b.time.mono += 60_000;
    expect(b.clock.trusted()).toBe(true);
  });

  it('NTP slewing between the checks and small steps within the tolerance are not a jump', async () => {
    const b = board({ ntp: () => true });
    await b.clock.check();
    for (let minute = 0; minute < 10; minute++) {
      b.time.mono += 60_000;
      b.time.wallOffset += 30;
      expect(b.clock.trusted()).toBe(true);
      await b.clock.check();
    }
    b.time.wallOffset += 800;
    expect(b.clock.trusted()).toBe(true);
  });

  it('without NTP, the RTC judges the jumped time: off by an hour is untrusted; set back, trusted again', async () => {
    const b = board({ ntp: () => false, rtc: () => ({ ok: true, ms: Math.floor((TRUE_TIME + b.time.mono) / 1000) * 1000 }) });
    await b.clock.check();
    expect(b.clock.trusted()).toBe(true);
    b.time.wallOffset -= HOUR;
    expect(b.clock.trusted()).toBe(false);
    await b.clock.check();
    expect(b.clock.trusted()).toBe(false);
    expect(b.health.at(-1)!.detail).toMatch(/system time is -3600\d{3} ms off test RTC/);
    b.time.wallOffset = 0;
    await b.clock.check();
    expect(b.clock.trusted()).toBe(true);
  });
});

describe('the timesyncd flag file after a jump', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('counts only when touched since the jump and not after now; timedatectl (the kernel state) answers otherwise', async () => {
    dir = mkdtempSync(join(tmpdir(), 'citygate-ntpflag-'));
    const flag = join(dir, 'synchronized');
    writeFileSync(flag, '');
    const touchedAt = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    utimesSync(flag, touchedAt / 1000, touchedAt / 1000);
    const no = join(dir, 'timedatectl-no');
    writeFileSync(no, '#!/bin/sh\necho no\n', { mode: 0o755 });
    const yes = join(dir, 'timedatectl-yes');
    writeFileSync(yes, '#!/bin/sh\necho yes\n', { mode: 0o755 });

    expect(await systemdNtpStatus({ flagPath: flag, timedatectl: no })()).toBe(true);
    expect(await systemdNtpStatus({ flagPath: flag, timedatectl: no })(touchedAt)).toBe(true);
    expect(await systemdNtpStatus({ flagPath: flag, timedatectl: no })(touchedAt + 1000)).toBe(false);
    expect(await systemdNtpStatus({ flagPath: flag, timedatectl: yes })(touchedAt + 1000)).toBe(true);
    // After a jump back, a touch from before it lies in the future of the new wall time.
    const future = Date.now() + 3_600_000;
    utimesSync(flag, future / 1000, future / 1000);
    expect(await systemdNtpStatus({ flagPath: flag, timedatectl: no })()).toBe(true);
    expect(await systemdNtpStatus({ flagPath: flag, timedatectl: no })(Date.now() - 1000)).toBe(false);
    expect(await systemdNtpStatus({ flagPath: join(dir, 'absent'), timedatectl: join(dir, 'absent-tool') })()).toBe(false);
  });
});
