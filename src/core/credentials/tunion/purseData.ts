import type { PurseAlgorithm } from './purseCrypto.js';

/** What one purse purchase was, for clearing (card number, offline ATC, amounts, terminal, TAC); never a key. */
export interface PurseTransaction {
  /** Fen debited; 0 for a metro entry, which writes its record with no charge. */
  amount: number;
  /** The card's offline ATC the purchase ran under (from INITIALIZE). */
  atc: number;
  balanceBefore: number;
  /** Null while it is not known whether the card paid. */
  balanceAfter: number | null;
  /** PSAM terminal id (12 hex digits) and its transaction serial for this purchase (8 hex digits). */
  terminalId: string;
  terminalSerial: string;
  /** YYYYMMDDhhmmss, local, as the card and the PSAM took it. */
  dateTime: string;
  /** 09: complex (CAPP) purchase. */
  type: number;
  algorithm: PurseAlgorithm;
  keyVersion: number;
  /** The card's transaction authentication code, which clearing verifies; null while pending. */
  tac: string | null;
  /** Whether the PSAM checked the card's MAC2 (false: a purchase proved after a tear, or a PSAM that failed at that moment). */
  mac2Verified: boolean;
}

/** How far a purse tap's money got. */
export type PurseState =
  /** Debited here and now. */
  | 'debited'
  /** A torn purchase that GET TRANSACTION PROVE showed paid when the card came back: no second debit. */
  | 'completed'
  /** DEBIT sent, no answer: not known whether the card paid. Nobody passed. */
  | 'pending'
  /** No money moved (refused before DEBIT, or the card declined it). */
  | 'none';

/** A T-Union tap's purse data (the tap's `purse`). */
export interface PurseTapData {
  aid: string;
  /** Card number (20 digits): also the tap's subject. */
  card: string;
  issuerId: string;
  cardType: string;
  /** What the card held when read. */
  balance: number;
  state: PurseState;
  trip: 'bus' | 'entry' | 'exit' | 'other';
  /** A metro exit: the entry station priced from, or `penalty` for a missing or foreign entry. */
  entry?: { station: string; city: string } | 'penalty';
  transaction: PurseTransaction | null;
  /** The pending tap (by id) this tap settles: `debited` says whether that purchase took the card's money. */
  settles: { tap: string; debited: boolean } | null;
}
