import type { DisplayLine } from '../../../../hal/display.js';
import { refuse } from '../../reasons.js';
import { quoteFare } from '../../policy/fareRules.js';
import type { Category } from '../credential.js';
import { epochOf } from './purseTime.js';
import type { PurchasePlan } from './tunionSession.js';
import type { TunionMetroSettings } from './tunionSettings.js';
import { INDUSTRY, LOG_TYPES, type MetroRecord } from './tunionFiles.js';

export interface MetroTrip {
  plan: PurchasePlan;
  fare: number;
  note: DisplayLine[] | undefined;
}

export interface MetroTripInput {
  direction: 'entry' | 'exit';
  record: MetroRecord | undefined;
  metro: TunionMetroSettings;
  city: string;
  category: Category;
  passbackMin: number;
  nowMs: number;
  timeZone: string;
}

/**
 * A metro trip on the card's own record (file 1A): entry writes the station
 * and time with no charge; exit charges the fare from the entry station (the
 * config's table, then the holder's category rules), or the penalty fare when
 * the card shows no entry or one this gate cannot price. Passback is read
 * from the card itself: entering again at this station, or leaving again
 * through it, within the window.
 */
export function planMetroTrip(input: MetroTripInput): MetroTrip {
  const { direction, record, metro, city, nowMs } = input;
  const here = record !== undefined && record.city === city && record.station === metro.station;
  const minutesAgo = record ? minutesSince(record, nowMs, input.timeZone) : undefined;
  const recent = minutesAgo !== undefined && minutesAgo >= 0 && minutesAgo < input.passbackMin;
  if (direction === 'entry') {
    if (record?.status === 'entered' && here && recent) refuse('passback', `the card entered station ${metro.station} ${minutesAgo} min ago (window ${input.passbackMin} min) with no exit since`);
    return { fare: 0, note: undefined, plan: { amount: 0, trip: 'entry', metro: { status: 'entered', city, station: metro.station }, log: { type: LOG_TYPES.entry, industry: INDUSTRY.metro, station: metro.station } } };
  }
  if (record?.status === 'exited' && here && recent) refuse('passback', `the card left through station ${metro.station} ${minutesAgo} min ago (window ${input.passbackMin} min)`);
  const exit = { metro: { status: 'exited' as const, city, station: metro.station }, log: { type: LOG_TYPES.exit, industry: INDUSTRY.metro, station: metro.station } };
  const base = record?.status === 'entered' && record.city === city ? metro.fares[record.station] : undefined;
  if (base === undefined) {
    // No entry on the card, an entry in another city or at a station this gate has no fare from: the operator's penalty fare, no concession.
    return { fare: metro.penaltyFare, note: undefined, plan: { amount: metro.penaltyFare, trip: 'exit', entry: 'penalty', ...exit } };
  }
  const quote = quoteFare({ default: base, byRoute: {}, rules: metro.rules }, input.category, undefined, nowMs, input.timeZone);
  return { fare: quote.fare, note: quote.note.length > 0 ? quote.note : undefined, plan: { amount: quote.fare, trip: 'exit', entry: { station: record!.station, city: record!.city }, ...exit } };
}

function minutesSince(record: MetroRecord, nowMs: number, timeZone: string): number | undefined {
  const at = epochOf(record.dateTime, timeZone);
  return at === undefined ? undefined : Math.floor((nowMs - at) / 60_000);
}
