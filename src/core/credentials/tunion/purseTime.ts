import { zonedParts } from '../../policy/localTime.js';

/** The last second formatted: a purchase asks for the same second several times, and formatToParts is slow. */
let last: { second: number; timeZone: string; digits: string } | undefined;

/** YYYYMMDDhhmmss in `timeZone`. */
export function localDigits(ms: number, timeZone: string): string {
  const second = Math.floor(ms / 1000);
  if (last?.second === second && last.timeZone === timeZone) return last.digits;
  const p = zonedParts(ms, timeZone);
  const digits = `${p.year}${p.month}${p.day}${p.hour}${p.minute}${p.second}`;
  last = { second, timeZone, digits };
  return digits;
}

/**
 * The purse's date-time: 7 bytes of BCD, YYYYMMDDhhmmss, in the gate's local
 * time (what the card keeps in its records and the PSAM takes into MAC1).
 */
export function purseDateTime(ms: number, timeZone: string): Uint8Array {
  return Uint8Array.from(Buffer.from(localDigits(ms, timeZone), 'hex'));
}

/** The 7-byte BCD back to epoch ms in `timeZone`; undefined when it is not a date-time (a blank record). */
export function epochOf(bcd: Uint8Array, timeZone: string): number | undefined {
  const digits = Buffer.from(bcd).toString('hex');
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(digits);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  // The zone's offset at that moment, found from how the zone writes it; a second pass settles a change of offset.
  let guess = asUtc;
  for (let i = 0; i < 2; i++) guess = asUtc - (utcOfDigits(localDigits(guess, timeZone)) - guess);
  return guess;
}

function utcOfDigits(digits: string): number {
  const n = (from: number, to: number): number => Number(digits.slice(from, to));
  return Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14));
}
