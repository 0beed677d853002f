import type { DisplayLine } from '../../../hal/display.js';
import type { Credential } from '../credentials/credential.js';
import { groupLine, placesLeftLine } from '../messages.js';
import { refuse } from '../reasons.js';
import type { GateSettings } from '../settings.js';
import type { Tap } from '../tap.js';
import { FareOnlyRules } from './fareOnlyRules.js';
import { localTime } from './localTime.js';
import type { Admission, ModeRules, Place } from './modeRules.js';

/** The `venue` section of the gate's settings. */
export interface VenueSettings {
  /** Passages this gate admits per local day; absent: no limit (the count is still kept and reported). */
  dailyCapacity?: number;
}

/**
 * A scenic area, museum or pier: tickets are the product claim (site, time
 * slot and entries, checked by the decider), a group ticket opens for its
 * entries, and the passages admitted today are counted against the daily
 * capacity. A group that does not fit whole is refused whole: the ticket is
 * one purchase for people who came together, and admitting part of it would
 * use the ticket up for the others.
 */
export class VenueRules implements ModeRules {
  private readonly fares: FareOnlyRules;
  /** The local date the count is for, and the passages admitted on it. */
  private day: string | undefined;
  private admitted = 0;

  constructor(
    private readonly settings: GateSettings,
    private readonly venue: VenueSettings = {},
  ) {
    this.fares = new FareOnlyRules(settings);
  }

  admit(credential: Credential, nowMs: number): Admission {
    const base = this.fares.admit(credential);
    const capacity = this.venue.dailyCapacity;
    const admitted = this.admittedOn(localTime(nowMs, this.settings.timezone).date);
    const note: DisplayLine[] = base.passages > 1 ? [groupLine(base.passages)] : [];
    if (capacity === undefined) return { ...base, note };
    const left = Math.max(0, capacity - admitted);
    if (base.passages > left) {
      refuse('capacity-full', `${admitted} of ${capacity} passages admitted today; this ticket is for ${base.passages}`, left > 0 ? [placesLeftLine(left)] : []);
    }
    return { ...base, note: [...note, placesLeftLine(left - base.passages)] };
  }

  /** Every accepted tap of this mode counts its granted passages on its local day (replayed from the journal at start). */
  record(tap: Tap): void {
    if (tap.result !== 'accepted') return;
    const date = localTime(Date.parse(tap.at), this.settings.timezone).date;
    if (this.day === undefined || date > this.day) {
      this.day = date;
      this.admitted = 0;
    }
    if (date === this.day) this.admitted += tap.product?.entries ?? 1;
  }

  place(): Place | undefined {
    return undefined;
  }

  /** The count of the last day a tap was admitted on; `date` says which day that is. */
  live(): Record<string, unknown> {
    const capacity = this.venue.dailyCapacity ?? null;
    return { date: this.day ?? null, admitted: this.admitted, capacity, remaining: capacity === null ? null : Math.max(0, capacity - this.admitted) };
  }

  private admittedOn(date: string): number {
    return date === this.day ? this.admitted : 0;
  }
}
