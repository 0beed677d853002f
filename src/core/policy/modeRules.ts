import type { DisplayLine } from '../../../hal/display.js';
import type { Credential } from '../credentials/credential.js';
import type { Tap } from '../tap.js';

/** Where the gate stands when a tap happens: a bus's operator, route and stop, a metro station. */
export interface Place {
  /** A bus's operator: transfers and fares are the operator's. */
  operator?: string;
  route?: string;
  stop?: string;
  station?: string;
}

/** What a mode's rules grant an accepted credential. */
export interface Admission {
  /** Minor units (fen); undefined where the mode charges nothing. */
  fare: number | undefined;
  /** Barrier passages granted (a group ticket: several). */
  passages: number;
  /** Extra lines for the passenger's screen (the fare rule applied, a count). */
  note?: DisplayLine[];
}

/**
 * One mode's own rules (bus fares and transfers, metro passback, venue
 * capacity, access allow-lists), applied after the checks every gate makes
 * (signature, validity, deny list, site, zone, window, category, replay).
 * State later decisions depend on is fed back from the journal's taps, at
 * start (recent taps) and after each commit.
 */
export interface ModeRules {
  /** Throws a Refusal (see reasons.ts) when this mode refuses the credential. */
  admit(credential: Credential, nowMs: number): Admission;
  /** What an adult would be charged here now (fen), before any transfer: the amount a bank card is told. Absent: the mode charges nothing. */
  adultFare?(nowMs: number): number | undefined;
  /** A tap was journaled, accepted or refused. */
  record(tap: Tap): void;
  place(): Place | undefined;
  /** Live figures for the fleet's status (a venue's count today, ...). */
  live(): Record<string, unknown>;
}
