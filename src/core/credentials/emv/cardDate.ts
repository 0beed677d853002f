/**
 * A calendar day in the gate's time zone, as EMV compares dates: the
 * transaction date `9A` (YYMMDD), certificate expiry (MMYY, valid through the
 * end of that month), application expiry `5F24` and effective date `5F25`.
 */
export interface CardDate {
  /** Full year, e.g. 2026. */
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
}

/** Orders two days: negative when `a` is before `b`, 0 on the same day. */
export function compareDates(a: CardDate, b: CardDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

/** Whether a certificate that expires at the end of `month`/`year` has expired on `today`. */
export function monthExpired(year: number, month: number, today: CardDate): boolean {
  return today.year > year || (today.year === year && today.month > month);
}

/** YYYY-MM-DD, for details and the tap. */
export function dateText(date: CardDate): string {
  return `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}
