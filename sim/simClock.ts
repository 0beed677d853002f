import { SystemClock, type ClockHealth, type RealTimeClock, type RtcReading } from '../hal/systemClock.js';

export type SimRtcState = 'ok' | 'missing' | 'reset';

/** 2000-01-01T00:00:00Z: where a DS3231 that lost its battery starts counting. */
const RTC_RESET_EPOCH = Date.UTC(2000, 0, 1);

/**
 * The clock faults of a simulated lane, as a board meets them: the system
 * clock set wrong (a jump), NTP that never synchronizes, an RTC that is not
 * there or lost its time. The gate judges them with the real SystemClock.
 */
export class SimClockFaults {
  /** How far the system clock is from true time. */
  private offsetMs = 0;
  private rtcState: SimRtcState;
  private readonly startedAt = Date.now();

  constructor(
    private ntp: boolean,
    rtc: SimRtcState,
  ) {
    this.rtcState = rtc;
  }

  wallNow(): number {
    return Date.now() + this.offsetMs;
  }

  /** Someone sets the system clock: like the kernel, that ends NTP's synchronization until it steps the clock back. */
  jump(ms: number): void {
    this.offsetMs += ms;
    this.ntp = false;
  }

  /** NTP synchronizes (stepping the clock to true time) or is lost. */
  setNtp(synchronized: boolean): void {
    if (synchronized) this.offsetMs = 0;
    this.ntp = synchronized;
  }

  setRtc(state: SimRtcState): void {
    this.rtcState = state;
  }

  ntpSynchronized(): boolean {
    return this.ntp;
  }

  readRtc(): RtcReading {
    if (this.rtcState === 'missing') return { ok: false, reason: 'sim RTC: no chip answers at 0x68' };
    if (this.rtcState === 'reset') {
      const reads = RTC_RESET_EPOCH + (Date.now() - this.startedAt);
      return { ok: false, reason: `sim RTC: reads ${new Date(reads).toISOString()}, before 2024: it lost its time` };
    }
    // The chip counts whole seconds.
    return { ok: true, ms: Math.floor(Date.now() / 1000) * 1000 };
  }
}

class SimRtc implements RealTimeClock {
  readonly description = 'sim RTC';

  constructor(private readonly faults: SimClockFaults) {}

  async read(): Promise<RtcReading> {
    return this.faults.readRtc();
  }

  async write(): Promise<void> {}

  async close(): Promise<void> {}
}

/** The real clock logic over the simulated faults; judged before it is returned, like the board's. */
export async function createSimClock(faults: SimClockFaults, checkIntervalMs: number, onHealth: (health: ClockHealth) => void): Promise<SystemClock> {
  const clock = new SystemClock(
    { toleranceMs: 2000, checkIntervalMs },
    { rtc: new SimRtc(faults), ntpSynchronized: async () => faults.ntpSynchronized(), onHealth, wallNow: () => faults.wallNow() },
  );
  await clock.start();
  return clock;
}
