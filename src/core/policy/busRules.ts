import type { Category, Credential } from '../credentials/credential.js';
import { FARE_NOTE_TEXT } from '../messages.js';
import type { FareTable, GateSettings } from '../settings.js';
import type { Tap } from '../tap.js';
import { quoteFare, type FareSchedule } from './fareRules.js';
import type { Admission, ModeRules, Place } from './modeRules.js';
import { holderKey, RecentByHolder } from './recentByHolder.js';
import { StopLocator, type BusStop } from './stopLocator.js';

/** A boarding soon after one on another route of the operator: a fixed amount off, or a fixed fare. */
export type TransferRule = { windowMin: number } & ({ discount: number } | { fare: number });

/** The `gate.bus` section: one vehicle's validator. */
export interface BusSettings {
  operator: string;
  /** The route at start; a driver console may change it. */
  route: string;
  /** The stop at start (a fixed validator at a terminus); a console or GPS may change it. */
  stop: string | undefined;
  /** Absent: the gate's own fare table (`gate.fares`), else no fare. */
  fares: FareSchedule | undefined;
  transfer: TransferRule | undefined;
  stops: readonly BusStop[];
  stopRadiusM: number;
  stopHysteresisM: number;
}

export type LocationUpdate = { applied: true; place: Place } | { applied: false; why: string };

/**
 * A bus validator: the fare by route and holder category, a transfer
 * discount, and the route and stop on every tap. Transfers are known from
 * this validator's own journal only: a transfer from another vehicle needs
 * the back office (or taps shared between vehicles, which the gate does not do).
 */
export class BusRules implements ModeRules {
  private route: string;
  private stop: string | undefined;
  private readonly locator: StopLocator;
  private readonly fares: FareSchedule | undefined;
  /** Each holder's routes boarded within the transfer window. */
  private readonly boardings: RecentByHolder<string> | undefined;

  constructor(
    private readonly bus: BusSettings,
    private readonly settings: GateSettings,
  ) {
    this.route = bus.route;
    this.stop = bus.stop;
    this.locator = new StopLocator({ stops: bus.stops, radiusM: bus.stopRadiusM, hysteresisM: bus.stopHysteresisM });
    this.locator.setCurrent(bus.stop);
    this.fares = bus.fares ?? scheduleOf(settings.fares);
    if (bus.transfer) this.boardings = new RecentByHolder(bus.transfer.windowMin * 60_000);
  }

  admit(credential: Credential, nowMs: number): Admission {
    const passages = credential.product?.entries ?? 1;
    if (!this.fares) return { fare: undefined, passages };
    const quote = quoteFare(this.fares, credential.category, this.route, nowMs, this.settings.timezone);
    const transfer = this.bus.transfer;
    const earlier = this.boardings?.recent(holderKey(credential.issuer, credential.subject), nowMs) ?? [];
    if (transfer && earlier.some((boarding) => boarding.value !== this.route)) {
      const fare = 'fare' in transfer ? Math.min(quote.fare, transfer.fare) : Math.max(0, quote.fare - transfer.discount);
      if (fare < quote.fare) return { fare, passages, note: [...quote.note, FARE_NOTE_TEXT.transfer] };
    }
    return { fare: quote.fare, passages, note: quote.note.length > 0 ? quote.note : undefined };
  }

  adultFare(nowMs: number): number | undefined {
    return this.fares ? quoteFare(this.fares, 'adult', this.route, nowMs, this.settings.timezone).fare : undefined;
  }

  record(tap: Tap): void {
    if (!this.boardings || tap.result !== 'accepted' || tap.issuer === null || tap.subject === null) return;
    if (tap.place?.operator !== this.bus.operator || tap.place.route === undefined) return;
    this.boardings.add(holderKey(tap.issuer, tap.subject), Date.parse(tap.at), tap.place.route);
  }

  place(): Place {
    return { operator: this.bus.operator, route: this.route, ...(this.stop !== undefined ? { stop: this.stop } : {}) };
  }

  live(): Record<string, unknown> {
    return { operator: this.bus.operator, route: this.route, stop: this.stop ?? null };
  }

  setRoute(route: string): LocationUpdate {
    this.route = route;
    return { applied: true, place: this.place() };
  }

  /** A stop named by a console; refused when the operator has a stop table and it is not in it. */
  setStop(stop: string): LocationUpdate {
    if (this.bus.stops.length > 0 && !this.locator.has(stop)) return { applied: false, why: `stop ${stop} is not in the stop table of ${this.bus.operator}` };
    this.stop = stop;
    this.locator.setCurrent(stop);
    return { applied: true, place: this.place() };
  }

  /** A GPS position: the stop the bus is at, if the operator has a stop table. */
  atPosition(position: { lat: number; lon: number; fixed: boolean }): LocationUpdate {
    if (this.bus.stops.length === 0) return { applied: false, why: 'no stop table (gate.bus.stops) to place a position in' };
    if (!position.fixed) return { applied: false, why: 'the receiver has no fix' };
    const stop = this.locator.locate(position);
    if (stop === undefined || stop === this.stop) return { applied: false, why: stop === undefined ? 'at no stop yet' : `still at ${stop}` };
    this.stop = stop;
    return { applied: true, place: this.place() };
  }
}

/** The gate's own fare table (`gate.fares`) as a schedule: one base fare, a fixed fare per category. */
function scheduleOf(table: FareTable | undefined): FareSchedule | undefined {
  if (!table) return undefined;
  const rules = Object.entries(table.byCategory).map(([category, fare]) => ({ category: category as Category, fare: fare! }));
  return { default: table.default, byRoute: {}, rules };
}
