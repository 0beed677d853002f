import type { DisplayLine } from '../../../hal/display.js';
import type { Category } from '../credentials/credential.js';
import { FARE_NOTE_TEXT } from '../messages.js';
import { localTime } from './localTime.js';

/** Part of a day in minutes: `from` (0 ... 1439) included, `until` (up to 1440, later than `from`) not. */
export interface DaySpan {
  from: number;
  until: number;
}

interface RuleScope {
  category: Category;
  /** Local times of day the rule holds; absent: all day. */
  hours?: readonly DaySpan[];
  /** ISO weekdays (1 = Monday ... 7 = Sunday) of the local date; absent: every day. */
  days?: readonly number[];
}

/** A holder category's fare: a fixed fare, or a share of the base fare. */
export type CategoryFareRule = RuleScope & ({ fare: number } | { percent: number });

/** An operator's fares in fen: the base fare (per route where routes differ) and category rules, first match wins. */
export interface FareSchedule {
  default: number;
  byRoute: Readonly<Record<string, number>>;
  rules: readonly CategoryFareRule[];
}

export interface FareQuote {
  fare: number;
  /** Why the fare is not the base fare, for the driver or staff to check. */
  note: DisplayLine[];
}

/**
 * The fare of one holder now: the route's base fare, then the first rule of
 * the holder's category that holds at this local time. A percent is the share
 * of the base fare paid, rounded down to the whole fen (in the passenger's
 * favour). A rule outside its hours or days does not apply: the next one may.
 */
export function quoteFare(schedule: FareSchedule, category: Category, route: string | undefined, nowMs: number, timeZone: string): FareQuote {
  const base = (route !== undefined ? schedule.byRoute[route] : undefined) ?? schedule.default;
  const rule = schedule.rules.find((r) => r.category === category && holdsAt(r, nowMs, timeZone));
  if (!rule) return { fare: base, note: [] };
  const fare = 'fare' in rule ? rule.fare : Math.floor((base * rule.percent) / 100);
  return { fare, note: fare < base ? [noteOf(rule, fare)] : [] };
}

function holdsAt(rule: CategoryFareRule, nowMs: number, timeZone: string): boolean {
  if (rule.hours === undefined && rule.days === undefined) return true;
  const local = localTime(nowMs, timeZone);
  if (rule.days !== undefined && !rule.days.includes(local.weekday)) return false;
  return rule.hours === undefined || rule.hours.some((span) => local.minute >= span.from && local.minute < span.until);
}

function noteOf(rule: CategoryFareRule, fare: number): DisplayLine {
  if (rule.hours !== undefined) return FARE_NOTE_TEXT.offPeak;
  if (fare === 0) return FARE_NOTE_TEXT.free;
  if ('percent' in rule && rule.percent === 50) return FARE_NOTE_TEXT.half;
  return FARE_NOTE_TEXT.reduced;
}
