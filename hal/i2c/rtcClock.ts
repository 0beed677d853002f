import { SystemClock, systemdNtpStatus, type ClockHealth, type SystemClockSettings } from '../systemClock.js';
import { openDs3231, type Ds3231Settings } from './ds3231.js';
import type { I2cBusOpener } from './i2cBus.js';

export interface RtcClockSettings extends SystemClockSettings {
  /** Absent on a board without an RTC: then only NTP makes wall time trusted. */
  rtc: Ds3231Settings | undefined;
}

/**
 * The field's clock, judged once before it is returned. It never rejects: a
 * board whose RTC bus does not open still has a clock, and says why it is not
 * trusted through onHealth.
 */
export async function createRtcClock(
  settings: RtcClockSettings,
  parts: { onHealth: (health: ClockHealth) => void; ntpSynchronized?: () => Promise<boolean>; openBus?: I2cBusOpener },
): Promise<SystemClock> {
  let rtc;
  if (settings.rtc) {
    try {
      rtc = await openDs3231(settings.rtc, parts.openBus);
    } catch (error) {
      parts.onHealth({ healthy: false, detail: (error as Error).message });
    }
  }
  const clock = new SystemClock(settings, { rtc, ntpSynchronized: parts.ntpSynchronized ?? systemdNtpStatus(), onHealth: parts.onHealth });
  await clock.start();
  return clock;
}
