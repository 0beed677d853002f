/** Service from 05:30 to 23:30 local time (Asia/Shanghai, UTC+8) on a Monday. */
export const SERVICE_START = Date.parse('2026-11-23T05:30:00+08:00');
const SLOT_MS = 30 * 60_000;

/** Relative traffic per half hour from 05:30: morning and evening rush hours, a quiet late evening. */
const SLOT_WEIGHTS = [1, 2, 4, 8, 10, 10, 7, 5, 4, 3, 3, 3, 4, 4, 3, 3, 3, 3, 4, 5, 8, 10, 10, 7, 5, 4, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1];

/**
 * `count` tap times across the service day, rising, spread by the rush-hour
 * profile: stratified draws through the profile's inverse CDF, jittered by
 * `random`, so the same seed gives the same day.
 */
export function serviceDay(count: number, random: () => number): number[] {
  const total = SLOT_WEIGHTS.reduce((a, b) => a + b, 0);
  const times: number[] = [];
  let slot = 0;
  let below = 0;
  for (let i = 0; i < count; i++) {
    const u = ((i + random()) / count) * total;
    while (slot < SLOT_WEIGHTS.length - 1 && u >= below + SLOT_WEIGHTS[slot]!) below += SLOT_WEIGHTS[slot++]!;
    const within = (u - below) / SLOT_WEIGHTS[slot]!;
    times.push(Math.floor(SERVICE_START + (slot + within) * SLOT_MS));
  }
  return times;
}

export const SERVICE_END = SERVICE_START + SLOT_WEIGHTS.length * SLOT_MS;
