import type { LocalTime } from './localTime.js';

/** One weekly time range: on these ISO weekdays (1 = Monday ... 7 = Sunday), from a minute of the day up to (not including) another. */
export interface WeeklyRange {
  days: readonly number[];
  /** Minutes since local midnight, 0 ... 1439. */
  from: number;
  /** Minutes since local midnight, exclusive; 1440 = up to midnight. */
  until: number;
}

/** A named schedule: the holder may pass during any of its ranges. */
export type Schedule = readonly WeeklyRange[];

/** Whether a local wall time lies within the schedule. A night shift is two ranges, one each side of midnight. */
export function inSchedule(schedule: Schedule, time: LocalTime): boolean {
  return schedule.some((range) => range.days.includes(time.weekday) && time.minute >= range.from && time.minute < range.until);
}
