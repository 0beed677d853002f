import type { DisplayLine } from '../../hal/display.js';

/**
 * The `reason` of a tap. The first block is the contract of DESIGN.md §2 with
 * issuers and fleet ops; the second block is this gate's own additions. A code
 * is never reused for another meaning.
 */
export const CONTRACT_REASONS = [
  'ok',
  'malformed',
  'unknown-issuer',
  'unknown-key',
  'bad-signature',
  'not-yet-valid',
  'expired',
  'stale',
  'replayed',
  'deny-listed',
  'wrong-site',
  'outside-window',
  'entries-used',
  'category-not-allowed',
  'card-removed',
  'card-auth-failed',
  'passback',
  'clock-untrusted',
  'journal-unavailable',
] as const;

export const GATE_REASONS = [
  /** The product names a zone this gate is not in. */
  'wrong-zone',
  /** A card answered, but with no application this gate enables (CG card, qPBOC, ...). */
  'card-not-supported',
  /** The reader or card did not answer in time, or the card flow ran past its overall deadline. */
  'card-timeout',
  /** The venue admitted as many passages today as it may (a group is refused whole, never split). */
  'capacity-full',
  /** An access gate: the holder is not on the allow-list and is no visitor of this site. */
  'not-allowed',
  /** An access gate: the holder is on the allow-list, but not for this time of the week. */
  'outside-schedule',
  /** A bank card's issuer certificate is on the fleet's issuer-certificate revocation list (RID, CA index, serial). */
  'certificate-revoked',
  /** The fare this gate charges is above the single-trip limit the credential's issuer authorised (a transport QR code's 单次消费金额上限). */
  'over-limit',
  /** A T-Union purse card holds less than the fare (the balance is shown). */
  'insufficient-balance',
  /** A T-Union purchase torn after DEBIT was sent: whether the card paid is not known yet; nobody passed (docs/credentials.md). */
  'purchase-pending',
  /** A T-Union purse card at a gate whose PSAM is missing or not working: the gate cannot debit it. */
  'psam-unavailable',
] as const;

export type Reason = (typeof CONTRACT_REASONS)[number] | (typeof GATE_REASONS)[number];
export type RefusalReason = Exclude<Reason, 'ok'>;

/** How far a refused card got: which application read it, and the masked PAN and expiry once known. */
export interface CardTrace {
  kind: 'card' | 'emv' | 'uid' | 'tunion';
  application?: string;
  pan?: string;
  expiry?: string;
}

/** Who a refused credential belongs to, known once its signature verified. */
export interface Identity {
  issuer: string;
  subject: string;
  category: string;
}

/**
 * A credential or a rule said no. `detail` is for logs and technicians, never
 * shown to passengers; `note` is, under the reason (a ticket's time slot).
 */
export class Refusal extends Error {
  identity: Identity | undefined;
  /** For a card: the application that refused it, and what it had read by then (for `card read`, never the clear PAN). */
  card: CardTrace | undefined;

  constructor(
    readonly reason: RefusalReason,
    readonly detail: string,
    readonly note?: DisplayLine[],
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'Refusal';
  }
}

export function refuse(reason: RefusalReason, detail: string, note?: DisplayLine[]): never {
  throw new Refusal(reason, detail, note);
}

/** Run a check on a credential whose signature verified; a refusal from it names the holder. */
export function asIdentified<T>(identity: Identity, check: () => T): T {
  const annotate = (error: unknown): never => {
    if (error instanceof Refusal) error.identity ??= identity;
    throw error;
  };
  try {
    const result = check();
    return (result instanceof Promise ? result.catch(annotate) : result) as T;
  } catch (error) {
    return annotate(error);
  }
}
