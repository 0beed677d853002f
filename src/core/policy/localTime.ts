/** Wall time as people at the gate read it: date, weekday and minute of the day in the gate's time zone. */
export interface LocalTime {
  /** YYYY-MM-DD, for "today" (a venue's daily count). */
  date: string;
  /** 1 = Monday ... 7 = Sunday (ISO 8601). */
  weekday: number;
  /** 0 ... 1439. */
  minute: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock fields of `ms` in `timeZone`, as two-digit strings (year four), weekday as `Mon`...`Sun`. */
export function zonedParts(ms: number, timeZone: string): Record<'year' | 'month' | 'day' | 'weekday' | 'hour' | 'minute' | 'second', string> {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(ms).map((p) => [p.type, p.value]));
  return { year: parts.year!, month: parts.month!, day: parts.day!, weekday: parts.weekday!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** Throws a RangeError for a time zone the system does not know: config validation catches it first. */
export function localTime(ms: number, timeZone: string): LocalTime {
  const parts = zonedParts(ms, timeZone);
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: WEEKDAYS[parts.weekday] ?? 0,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** "HH:MM" to minutes of the day; undefined if it is not a time of day. */
export function minuteOfDay(text: string): number | undefined {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}
