import type { CardApplicationName } from './credentials/cardApplication.js';
import type { Category } from './credentials/credential.js';
import type { TunionSettings } from './credentials/tunion/tunionSettings.js';
import type { AccessSettings } from './policy/accessRules.js';
import type { BusSettings } from './policy/busRules.js';
import type { MetroSettings } from './policy/metroRules.js';
import type { VenueSettings } from './policy/venueRules.js';

export const MODES = ['bus', 'metro-entry', 'metro-exit', 'venue', 'access'] as const;
export type GateMode = (typeof MODES)[number];

/** Fare in minor units (fen), by holder category where the operator sets one. */
export interface FareTable {
  default: number;
  byCategory: Partial<Record<Category, number>>;
}

/** What the gate core needs to know about itself; built from the config file by src/app. */
export interface GateSettings {
  gateId: string;
  /** Undefined only for `citygate check` without --site: then no site rule applies. */
  site: string | undefined;
  zone: string | undefined;
  mode: GateMode;
  /** Holder categories this gate lets through. */
  categories: readonly Category[];
  /** Absent where the mode charges nothing. */
  fares: FareTable | undefined;
  /** Clock difference forgiven on exp/nbf/iat/from/until. */
  skewSec: number;
  /** How old an offline code's iat may be. */
  freshnessSec: number;
  /** How long the barrier waits for the passenger before it closes again. */
  openTimeoutMs: number;
  /** The same card or code again within this time is the same tap. */
  doubleTapMs: number;
  apduTimeoutMs: number;
  /** Whether cards are still accepted while wall time is untrusted (codes never are). */
  cardsWhenClockUntrusted: boolean;
  /** IANA zone for what people mean by a time of day: off-peak hours, opening times, "today". */
  timezone: string;
  /** Route, stop, fares and transfers of a bus validator (docs/modes.md, "Bus"); required in mode bus. */
  bus?: BusSettings;
  /** Station and passback window of a metro gate (docs/modes.md, "Metro"); required in the metro modes. */
  metro?: MetroSettings;
  /** Daily capacity of a venue gate (docs/modes.md, "Venues and scenic areas"); absent: no limit. */
  venue?: VenueSettings;
  /** Allow-list, schedules, visitors and UID cards of an access gate (docs/modes.md, "Access control"). */
  access?: AccessSettings;
  /** The card applications this gate takes, in the order it tries them, and the card flow's deadline (docs/config.md). */
  cards?: CardSettings;
  /** Wide lane, large text, clear tones (docs/modes.md, "Accessibility"); absent: none of them. */
  accessibility?: AccessibilitySettings;
  /** How this gate takes T-Union purse cards (docs/config.md); used where `cards.applications` has `tunion`. */
  tunion?: TunionSettings;
}

export interface CardSettings {
  applications: readonly CardApplicationName[];
  /** The whole card flow, from the card in the field to a credential or a refusal. */
  deadlineMs: number;
}

export interface AccessibilitySettings {
  /** A lane for wheelchairs, prams and slow walkers: the barrier waits longer. */
  wideLane: boolean;
  /** The wide lane's open time; absent: twice the gate's openTimeoutMs. */
  openTimeoutMs: number | undefined;
  largeText: boolean;
  /** A long tone on acceptance instead of the short click. */
  clearTones: boolean;
}

export const DEFAULT_TIMINGS = {
  skewSec: 30,
  freshnessSec: 60,
  openTimeoutMs: 8_000,
  doubleTapMs: 3_000,
  apduTimeoutMs: 500,
} as const;

export const DEFAULT_TIMEZONE = 'Asia/Shanghai';
