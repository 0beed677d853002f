import type { Credential } from '../credentials/credential.js';
import { refuse } from '../reasons.js';
import type { GateSettings } from '../settings.js';
import type { Tap } from '../tap.js';
import { quoteFare, type FareSchedule } from './fareRules.js';
import { localTime } from './localTime.js';
import type { Admission, ModeRules, Place } from './modeRules.js';
import { holderKey, RecentByHolder } from './recentByHolder.js';

/** The `gate.metro` section: a gate of one station. */
export interface MetroSettings {
  station: string;
  /** A second entry at this station within this many minutes, without an exit between, is passback. */
  passbackMin: number;
  /** Charged at entry (a flat-fare network); absent: nothing at the gate, the back office prices the journey. */
  fares: FareSchedule | undefined;
}

/** Entries at this station per holder: shared by the entry and exit rules of one gate (a reversible gate). */
const entriesOf = new WeakMap<GateSettings, RecentByHolder<null>>();

/**
 * A metro gate. Entry gates refuse passback: the same holder entering this
 * station again within the window with no exit seen between. The exits this
 * gate sees are its own (a reversible gate set to exit by command); exits at
 * other gates reach it only once exit gates share taps over the site topic.
 * Exit gates admit and record the station: the back office prices the
 * journey from the entry and exit taps.
 */
export class MetroRules implements ModeRules {
  private readonly entries: RecentByHolder<null>;

  constructor(
    private readonly direction: 'entry' | 'exit',
    private readonly metro: MetroSettings,
    private readonly settings: GateSettings,
  ) {
    let entries = entriesOf.get(settings);
    if (!entries) {
      entries = new RecentByHolder(metro.passbackMin * 60_000);
      entriesOf.set(settings, entries);
    }
    this.entries = entries;
  }

  admit(credential: Credential, nowMs: number): Admission {
    const passages = credential.product?.entries ?? 1;
    if (this.direction === 'exit') return { fare: undefined, passages };
    const last = this.entries.recent(holderKey(credential.issuer, credential.subject), nowMs).at(-1);
    if (last) {
      const minutes = Math.floor((nowMs - last.atMs) / 60_000);
      const at = localTime(last.atMs, this.settings.timezone).minute;
      refuse('passback', `entered ${this.metro.station} at ${clock(at)} (${minutes} min ago, window ${this.metro.passbackMin} min) with no exit since`);
    }
    if (!this.metro.fares) return { fare: undefined, passages };
    const quote = quoteFare(this.metro.fares, credential.category, undefined, nowMs, this.settings.timezone);
    return { fare: quote.fare, passages, note: quote.note.length > 0 ? quote.note : undefined };
  }

  adultFare(nowMs: number): number | undefined {
    if (this.direction === 'exit' || !this.metro.fares) return undefined;
    return quoteFare(this.metro.fares, 'adult', undefined, nowMs, this.settings.timezone).fare;
  }

  record(tap: Tap): void {
    if (tap.result !== 'accepted' || tap.issuer === null || tap.subject === null) return;
    const holder = holderKey(tap.issuer, tap.subject);
    if (tap.mode === 'metro-exit') this.entries.forget(holder);
    else if (tap.mode === 'metro-entry' && tap.place?.station === this.metro.station) this.entries.add(holder, Date.parse(tap.at), null);
  }

  place(): Place {
    return { station: this.metro.station };
  }

  live(): Record<string, unknown> {
    return { station: this.metro.station };
  }
}

function clock(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
