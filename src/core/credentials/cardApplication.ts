import type { CardChannel } from '../../../hal/cardReader.js';
import type { Credential } from './credential.js';
import type { CheckTime } from './validity.js';

/** The card applications a gate can take, in the order a gate tries them by default: a transit purse before a bank card on the same card. */
export const CARD_APPLICATIONS = ['tunion', 'qpboc', 'cg', 'uid'] as const;
export type CardApplicationName = (typeof CARD_APPLICATIONS)[number];

/** The whole card flow may take this long (config `gate.cards.deadlineMs`), however chatty the card. */
export const DEFAULT_CARD_DEADLINE_MS = 1_000;

export interface CardCheck extends CheckTime {
  gateId: string;
  apduTimeoutMs: number;
  /** Whether a card without another application is read by its UID instead (access gates that allow it). */
  uidCards?: boolean;
  /** The applications this gate enables, in the order it tries them; absent: every one it can run. */
  applications?: readonly CardApplicationName[];
  /** The whole flow's deadline; absent: {@link DEFAULT_CARD_DEADLINE_MS}. */
  deadlineMs?: number;
  /** Minor units (fen) the mode would charge: the amount a bank card is told (`9F02`). */
  amountFen?: number;
  /** IANA zone of the gate: card dates (`9A`, expiry) are local dates. */
  timezone?: string;
}

/**
 * One card application (the CG card, UnionPay QuickPass, a UID badge, ...): it
 * selects itself, reads, authenticates and gives a verified credential. The
 * card flow (cardVerifier.ts) decides which application a card is read by.
 */
export interface CardApplication {
  readonly name: CardApplicationName;
  /** Payment applications are found in the card's PPSE directory; the others by a direct SELECT. */
  readonly viaPpse: boolean;
  /** Whether a PPSE directory entry's AID is this application's. */
  matches(aid: Uint8Array): boolean;
  /**
   * Reads the card on `channel` (`aid`: the PPSE entry chosen, for PPSE applications).
   * Resolves undefined when the card does not carry this application, so the
   * flow tries the next; throws a Refusal when it does but fails.
   */
  read(channel: CardChannel, check: CardCheck, aid?: Uint8Array): Promise<Credential | undefined>;
}
