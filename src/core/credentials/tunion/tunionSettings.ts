import type { Category } from '../credential.js';
import type { CategoryFareRule } from '../../policy/fareRules.js';

/** `gate.tunion` of the config (docs/config.md): how this gate takes T-Union purse cards. */
export interface TunionSettings {
  /** Card type (file 15, two hex digits) to holder category; a type not listed is `defaultCategory`. */
  cardTypes: Readonly<Record<string, Category>>;
  defaultCategory: Category;
  /** The purchase key index the card and the PSAM use (INITIALIZE FOR CAPP PURCHASE). */
  keyIndex: number;
  /** This gate's city code (4 BCD digits), written into the card's records. */
  city: string;
  /** A purchase torn after DEBIT is settled by GET TRANSACTION PROVE when the card comes back within this many minutes. */
  pendingWindowMin: number;
  /** Metro gates: this station's code on cards, the fare from each entry station, the penalty fare. */
  metro: TunionMetroSettings | undefined;
}

export interface TunionMetroSettings {
  /** This station's code as cards carry it (4 BCD digits: line, station). */
  station: string;
  /** Adult fare (fen) to this station from each entry station (by its code). */
  fares: Readonly<Record<string, number>>;
  /** Charged at exit when the card shows no entry, or an entry this gate cannot price (another city, an unknown station). */
  penaltyFare: number;
  /** Holder-category rules applied to the exit fare (a percent or fixed fare), as bus fares take them. */
  rules: readonly CategoryFareRule[];
}
