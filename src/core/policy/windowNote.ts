import type { DisplayLine } from '../../../hal/display.js';
import type { Product } from '../credentials/credential.js';
import { entrySlotLine, validDatesLine } from '../messages.js';
import { localTime } from './localTime.js';

function clock(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** ECMAScript's time range (±8.64e15 ms): a bound beyond it cannot be written as a date and is left out. */
const MAX_DATE_MS = 8.64e15;

function wallTime(sec: number | undefined): number | undefined {
  if (sec === undefined) return undefined;
  const ms = sec * 1000;
  return Number.isFinite(ms) && Math.abs(ms) < MAX_DATE_MS ? ms : undefined;
}

/**
 * The ticket's valid window as the passenger reads it, in the gate's time
 * zone: a slot within one day as times ("Entry 10:00–11:00", with the date
 * when it is not today), a window over several days (an annual pass) as its
 * first and last dates. Empty when the product has no window.
 */
export function windowNote(product: Product | undefined, nowMs: number, timeZone: string): DisplayLine[] {
  const fromMs = wallTime(product?.from);
  const untilMs = wallTime(product?.until);
  if (fromMs === undefined && untilMs === undefined) return [];
  const today = localTime(nowMs, timeZone).date;
  const from = fromMs === undefined ? undefined : localTime(fromMs, timeZone);
  const until = untilMs === undefined ? undefined : localTime(untilMs, timeZone);
  const day = (from ?? until)!.date;
  // `until` is exclusive: a window ending at midnight ends on the day before.
  const lastDay = untilMs === undefined ? undefined : localTime(untilMs - 1, timeZone).date;
  if (from !== undefined && until !== undefined && from.date !== lastDay) return [validDatesLine(from.date, lastDay)];
  if (from === undefined || until === undefined) {
    if (day !== today) return [validDatesLine(from?.date, lastDay)];
    return [entrySlotLine(from && clock(from.minute), until && clock(until.minute))];
  }
  const start = day === today ? clock(from.minute) : `${day} ${clock(from.minute)}`;
  return [entrySlotLine(start, until.date === day ? clock(until.minute) : '24:00')];
}
