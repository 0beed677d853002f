import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDs3231Time, Ds3231, encodeDs3231Time, type Ds3231Settings } from '../hal/i2c/ds3231.js';
import { createRtcClock } from '../hal/i2c/rtcClock.js';
import { SystemClock, systemdNtpStatus, type ClockHealth } from '../hal/systemClock.js';
import { FakeI2cBus } from './support/fakeI2c.js';

const RTC: Ds3231Settings = { bus: 1, address: 0x68, forceAccess: true, minYear: 2024 };
const PI_DAY = Date.UTC(2025, 2, 14, 15, 9, 26);

/** A DS3231 on a fake bus, its clock at `ms`, oscillator flag as given. */
function chip(ms: number, status = 0x00): { bus: FakeI2cBus; rtc: Ds3231 } {
  const bus = new FakeI2cBus([0x68]);
  const regs = bus.registers.get(0x68)!;
  regs.set(encodeDs3231Time(ms), 0);
  regs[0x0f] = status;
  return { bus, rtc: new Ds3231(bus, RTC) };
}

describe('DS3231 registers', () => {
  it('encodes a known time as BCD, 24 h, weekday 1 = Sunday', () => {
    expect([...encodeDs3231Time(PI_DAY)]).toEqual([0x26, 0x09, 0x15, 6, 0x14, 0x03, 0x25]);
    expect([...encodeDs3231Time(Date.UTC(2100, 0, 1))]).toEqual([0, 0, 0, 6, 0x01, 0x81, 0x00]);
  });

  it('decodes what it encodes, 2000 to 2199, to the second', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2199, 11, 31, 23, 59, 59) / 1000 }), (sec) => {
        expect(decodeDs3231Time(encodeDs3231Time(sec * 1000))).toEqual({ ms: sec * 1000 });
      }),
    );
  });

  it('reads 12 h mode as another tool may have left it', () => {
    const at = (hours: number) => decodeDs3231Time(Uint8Array.of(0, 0, hours, 1, 0x14, 0x03, 0x25));
    expect(at(0x40 | 0x20 | 0x03)).toEqual({ ms: Date.UTC(2025, 2, 14, 15) });
    expect(at(0x40 | 0x12)).toEqual({ ms: Date.UTC(2025, 2, 14, 0) });
    expect(at(0x40 | 0x20 | 0x12)).toEqual({ ms: Date.UTC(2025, 2, 14, 12) });
  });

  it('refuses registers that are no time', () => {
    expect(decodeDs3231Time(Uint8Array.of(0x5a, 0, 0, 1, 1, 1, 0x25))).toMatchObject({ reason: expect.stringMatching(/not BCD/) });
    // A tens digit above 9 (a corrupted read) is not a year of the 22nd century.
    expect(decodeDs3231Time(Uint8Array.of(0, 0, 0, 1, 1, 1, 0xa0))).toMatchObject({ reason: expect.stringMatching(/not BCD/) });
    expect(decodeDs3231Time(Uint8Array.of(0, 0, 0, 1, 0x30, 0x02, 0x25))).toMatchObject({ reason: expect.stringMatching(/not a date: 2025-2-30/) });
    expect(decodeDs3231Time(Uint8Array.of(0x60, 0, 0, 1, 1, 1, 0x25))).toMatchObject({ reason: expect.stringMatching(/not a date/) });
    expect(decodeDs3231Time(Uint8Array.of(0, 0, 0, 1, 1, 0x00, 0x25))).toMatchObject({ reason: expect.stringMatching(/not a date/) });
  });
});

describe('DS3231 on a fake bus', () => {
  it('reads a valid time', async () => {
    expect(await chip(PI_DAY).rtc.read()).toEqual({ ok: true, ms: PI_DAY });
  });

  it('a stopped oscillator (OSF) makes the time untrustworthy', async () => {
    expect(await chip(PI_DAY, 0x88).rtc.read()).toEqual({ ok: false, reason: expect.stringMatching(/0x68 on i2c-1: oscillator stopped/) });
  });

  it('a chip reset to 2000 has lost its time', async () => {
    expect(await chip(Date.UTC(2000, 0, 1, 0, 3)).rtc.read()).toEqual({ ok: false, reason: expect.stringMatching(/2000-01-01T00:03:00.000Z, before 2024/) });
  });

  it('a missing chip is a reason, not a throw', async () => {
    const rtc = new Ds3231(new FakeI2cBus([]), RTC);
    expect(await rtc.read()).toEqual({ ok: false, reason: expect.stringMatching(/no answer \(EREMOTEIO\).*i2cdetect -y 1/) });
  });

  it('writes the time in one block, keeps the oscillator on battery, then clears OSF only', async () => {
    const { bus, rtc } = chip(Date.UTC(2000, 0, 1), 0x88);
    bus.registers.get(0x68)![0x0e] = 0x9c;
    await rtc.write(PI_DAY);
    expect(bus.log).toEqual([
      { op: 'writeI2cBlock', address: 0x68, command: 0x00, bytes: [0x26, 0x09, 0x15, 6, 0x14, 0x03, 0x25] },
      { op: 'writeByte', address: 0x68, command: 0x0e, byte: 0x1c },
      { op: 'writeByte', address: 0x68, command: 0x0f, byte: 0x08 },
    ]);
    expect(await rtc.read()).toEqual({ ok: true, ms: PI_DAY });
  });
});

describe('system clock', () => {
  function clockWith(options: { ntp: boolean[]; wall: number; rtc?: Ds3231 }) {
    const health: ClockHealth[] = [];
    const ntp = [...options.ntp];
    const clock = new SystemClock({ toleranceMs: 2000, checkIntervalMs: 60_000 }, { rtc: options.rtc, ntpSynchronized: async () => ntp.shift() ?? false, onHealth: (h) => health.push(h), wallNow: () => options.wall });
    return { clock, health };
  }

  it('starts trusted on NTP without waiting for the RTC write-back (it waits for a second boundary); stop waits for it', async () => {
    const { bus, rtc } = chip(Date.UTC(2000, 0, 1), 0x80);
    const { clock } = clockWith({ ntp: [true], wall: PI_DAY, rtc });
    await clock.start();
    expect(clock.trusted()).toBe(true);
    const blockWrites = () => bus.log.filter((op) => op.op === 'writeI2cBlock').length;
    expect(blockWrites()).toBe(0);
    await clock.stop();
    expect(blockWrites()).toBe(1);
  });

  it('NTP in sync: trusted, and the RTC is set to the next whole second and its OSF cleared, once per synchronized period', async () => {
    const { bus, rtc } = chip(Date.UTC(2000, 0, 1), 0x80);
    const { clock, health } = clockWith({ ntp: [true, true, false, true], wall: PI_DAY, rtc });
    await clock.check();
    expect(clock.trusted()).toBe(true);
    expect(await rtc.read()).toEqual({ ok: true, ms: PI_DAY });
    await clock.check();
    const blockWrites = () => bus.log.filter((op) => op.op === 'writeI2cBlock').length;
    expect(blockWrites()).toBe(1);
    await clock.check();
    await clock.check();
    expect(blockWrites()).toBe(2);
    expect(health.map((h) => h.detail)).toEqual(['wall time trusted: NTP synchronized', expect.stringMatching(/agrees with RTC/), 'wall time trusted: NTP synchronized']);
  });

  it('NTP not in sync: trusted while system time agrees with a valid RTC reading', async () => {
    const agreeing = clockWith({ ntp: [false], wall: PI_DAY + 1200, rtc: chip(PI_DAY).rtc });
    await agreeing.clock.check();
    expect(agreeing.clock.trusted()).toBe(true);
    expect(agreeing.health).toEqual([{ healthy: true, detail: expect.stringMatching(/agrees with RTC DS3231/) }]);

    const off = clockWith({ ntp: [false], wall: PI_DAY + 10_000, rtc: chip(PI_DAY).rtc });
    await off.clock.check();
    expect(off.clock.trusted()).toBe(false);
    expect(off.health[0]?.detail).toMatch(/system time is 9500 ms off RTC DS3231/);
  });

  it('untrusted on a stopped oscillator, an RTC reset to 2000, or no RTC at all', async () => {
    for (const rtc of [chip(PI_DAY, 0x80).rtc, chip(Date.UTC(2000, 0, 1)).rtc, undefined]) {
      const { clock, health } = clockWith({ ntp: [false], wall: PI_DAY, rtc });
      await clock.check();
      expect(clock.trusted()).toBe(false);
      expect(health).toEqual([{ healthy: false, detail: expect.stringMatching(/untrusted: NTP not synchronized/) }]);
    }
  });

  it('a board whose I2C bus does not open still gets a clock, with the reason', async () => {
    const health: ClockHealth[] = [];
    const enoent = async () => {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    };
    const clock = await createRtcClock({ toleranceMs: 2000, checkIntervalMs: 60_000, rtc: RTC }, { onHealth: (h) => health.push(h), ntpSynchronized: async () => false, openBus: enoent });
    await clock.stop();
    expect(clock.trusted()).toBe(false);
    expect(health.map((h) => h.detail)).toEqual([expect.stringMatching(/no \/dev\/i2c-1: enable I2C/), 'wall time untrusted: NTP not synchronized and no RTC']);
  });
});

describe('NTP status from systemd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-ntp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = (name: string, answer: string) => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n[ "$*" = "show -p NTPSynchronized --value" ] && echo ${answer}\n`);
    chmodSync(path, 0o755);
    return path;
  };

  it('the timesyncd flag file, else timedatectl, else no', async () => {
    const flag = join(dir, 'synchronized');
    writeFileSync(flag, '');
    expect(await systemdNtpStatus({ flagPath: flag, timedatectl: join(dir, 'absent') })()).toBe(true);
    const noFlag = join(dir, 'no-flag');
    expect(await systemdNtpStatus({ flagPath: noFlag, timedatectl: script('yes.sh', 'yes') })()).toBe(true);
    expect(await systemdNtpStatus({ flagPath: noFlag, timedatectl: script('no.sh', 'no') })()).toBe(false);
    expect(await systemdNtpStatus({ flagPath: noFlag, timedatectl: join(dir, 'absent') })()).toBe(false);
  });
});
