import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from './clock.js';

export type RtcReading = { ok: true; ms: number } | { ok: false; reason: string };

/** A battery-backed clock chip (hal/i2c/ds3231.ts). read() never rejects: a bad reading says why. */
export interface RealTimeClock {
  readonly description: string;
  read(): Promise<RtcReading>;
  write(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface SystemClockSettings {
  /** How far system time may be from the RTC and still be trusted. */
  toleranceMs: number;
  /**
   * How far wall time may move against monotonic time between two judgements
   * before it counts as a jump (NTP slews at most 0.5 ms a second). Default 1000.
   */
  jumpToleranceMs?: number;
  /** How often NTP status and the RTC are looked at again. */
  checkIntervalMs: number;
}

export interface ClockHealth {
  healthy: boolean;
  detail: string;
}

export interface SystemClockParts {
  rtc: RealTimeClock | undefined;
  /** Whether NTP holds the system time; with `sinceWallMs`, only a synchronization at or after that wall time counts. */
  ntpSynchronized: (sinceWallMs?: number) => Promise<boolean>;
  onHealth: (health: ClockHealth) => void;
  /** System wall time; Date.now on the board. */
  wallNow?: () => number;
  /** Monotonic time; performance.now on the board. */
  monotonicNow?: () => number;
}

/**
 * The board's clock: system wall time, trusted while NTP is synchronized, or
 * while it agrees with a valid RTC reading within the tolerance (checked again
 * every interval, so a clock that drifts or is set wrong stops being trusted).
 * Setting the system time from the RTC at boot is the system's job (the kernel
 * driver with hwclock, see docs/hardware-gpio-i2c.md): this class never sets
 * system time, it only judges it. While NTP is synchronized it writes the time
 * back to the RTC once per synchronized period, which also clears a stopped-
 * oscillator flag. Between judgements, wall time that jumps against monotonic
 * time (someone set the clock, a bad NTP step) stops being trusted at once,
 * until a fresh judgement: NTP synchronized after the jump, or the RTC agreeing.
 */
export class SystemClock implements Clock {
  private trust: 'none' | 'ntp' | 'rtc' = 'none';
  private detail = '';
  private rtcWritten = false;
  private checking: Promise<void> | undefined;
  private rtcWrite: Promise<void> | undefined;
  private interval: NodeJS.Timeout | undefined;
  private readonly wall: () => number;
  private readonly mono: () => number;
  /** Wall minus monotonic time when the clock was last judged trusted. */
  private judgedOffset = 0;
  /** Wall time just after the last jump seen: an NTP synchronization before it does not count. */
  private jumpedAt: number | undefined;
  /** The last jump, in words, until a judgement trusts the clock again: the alarm keeps saying why. */
  private jump: string | undefined;

  constructor(
    private readonly settings: SystemClockSettings,
    private readonly parts: SystemClockParts,
  ) {
    this.wall = parts.wallNow ?? Date.now;
    this.mono = parts.monotonicNow ?? (() => performance.now());
  }

  now(): number {
    return this.wall();
  }

  monotonic(): number {
    return this.mono();
  }

  trusted(): boolean {
    if (this.trust === 'none') return false;
    const moved = this.offset() - this.judgedOffset;
    if (Math.abs(moved) <= (this.settings.jumpToleranceMs ?? 1000)) return true;
    this.jumpedAt = this.wall();
    this.jump = `it jumped by ${Math.round(moved / 1000)} s at ${new Date(this.jumpedAt).toISOString()}`;
    this.report('none', `wall time untrusted: it jumped by ${Math.round(moved / 1000)} s; waiting for NTP or the RTC to confirm it`);
    void this.check();
    return false;
  }

  private offset(): number {
    return this.wall() - this.mono();
  }

  setTimer(ms: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(timer) };
  }

  /**
   * First judgement before the gate starts, then again every interval. The
   * start does not wait for the RTC write-back, which waits for a second
   * boundary: up to a second off the gate's start, after a crash too.
   */
  async start(): Promise<void> {
    await this.judgement();
    this.interval = setInterval(() => void this.check(), this.settings.checkIntervalMs);
    this.interval.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.interval);
    await this.checking;
    await this.rtcWrite;
    await this.parts.rtc?.close();
  }

  /** Judge the clock now; resolves once judged and the RTC is written back where NTP called for it. */
  async check(): Promise<void> {
    await this.judgement();
    await this.rtcWrite;
  }

  private judgement(): Promise<void> {
    this.checking ??= this.judge().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async judge(): Promise<void> {
    const { rtc } = this.parts;
    if (await this.parts.ntpSynchronized(this.jumpedAt)) {
      if (rtc && !this.rtcWritten) this.rtcWrite ??= this.writeBack(rtc).finally(() => (this.rtcWrite = undefined));
      return this.report('ntp', 'wall time trusted: NTP synchronized');
    }
    this.rtcWritten = false;
    // After a jump, the alarm names the jump first: "NTP not synchronized" alone sends a technician to the wrong cause.
    const untrusted = this.jump ? `wall time untrusted: ${this.jump}, and NTP has not confirmed the time since` : 'wall time untrusted: NTP not synchronized';
    if (!rtc) return this.report('none', `${untrusted}${this.jump ? '; no RTC to check it against' : ' and no RTC'}`);
    const reading = await rtc.read();
    if (!reading.ok) return this.report('none', `${untrusted}; ${reading.reason}`);
    // The RTC counts whole seconds: its reading is on average half a second behind.
    const difference = Math.round(this.wall() - (reading.ms + 500));
    if (Math.abs(difference) > this.settings.toleranceMs) {
      return this.report('none', `${untrusted}; system time is ${difference} ms off ${rtc.description} (was it set from the RTC at boot? see hwclock)`);
    }
    this.report('rtc', `wall time trusted: agrees with ${rtc.description} (NTP not synchronized)`);
  }

  /** Written at a second boundary, since the RTC holds whole seconds. */
  private async writeBack(rtc: RealTimeClock): Promise<void> {
    const second = Math.ceil(this.wall() / 1000) * 1000;
    await new Promise((resolve) => setTimeout(resolve, second - this.wall()));
    try {
      await rtc.write(second);
      this.rtcWritten = true;
    } catch (error) {
      this.parts.onHealth({ healthy: false, detail: `RTC not updated from NTP: ${(error as Error).message}` });
    }
  }

  private report(trust: 'none' | 'ntp' | 'rtc', detail: string): void {
    if (trust !== 'none') {
      this.judgedOffset = this.offset();
      this.jump = undefined;
    }
    if (trust === this.trust && detail === this.detail) return;
    this.trust = trust;
    this.detail = detail;
    this.parts.onHealth({ healthy: trust !== 'none', detail });
  }
}

/**
 * Whether systemd says NTP is synchronized: the flag file systemd-timesyncd
 * touches on every synchronization (no process to start; after a jump, only a
 * touch since then counts), else `timedatectl`, which also answers for chrony or
 * ntpd through the kernel's sync state (setting the clock clears it).
 * Anything failing is "no".
 */
export function systemdNtpStatus(options: { flagPath: string; timedatectl: string } = { flagPath: '/run/systemd/timesync/synchronized', timedatectl: 'timedatectl' }): (sinceWallMs?: number) => Promise<boolean> {
  return async (sinceWallMs) => {
    const touched = await stat(options.flagPath).then((s) => s.mtimeMs, () => undefined);
    // After a jump back, a touch from before it lies in the future of the clock as it is now.
    const since = touched !== undefined && (sinceWallMs === undefined || (touched >= sinceWallMs && touched <= Date.now()));
    if (since) return true;
    return new Promise((resolve) => {
      execFile(options.timedatectl, ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 2000 }, (error, stdout) => resolve(!error && stdout.trim() === 'yes'));
    });
  };
}
