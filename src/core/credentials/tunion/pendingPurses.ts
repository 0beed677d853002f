import type { Tap } from '../../tap.js';
import type { PurseTapData } from './purseData.js';

/** A purchase torn after DEBIT, journaled as a pending tap, not yet settled. */
export interface PendingPurse {
  /** The pending tap's id. */
  tap: string;
  card: string;
  category: string;
  atMs: number;
  purse: PurseTapData;
}

/**
 * The pending purchases of this gate, by card number, while their card may
 * still come back to settle them (the window): read by the decider, fed by
 * every T-Union tap the journal commits (the same rule the journal's own
 * table follows, journal.ts). Older ones stay in the journal and the upload,
 * unsettled, for the back office.
 */
export class PendingPurses {
  private readonly byCard = new Map<string, PendingPurse>();

  constructor(private readonly windowMs: number) {}

  /** The card's pending purchase, if it is recent enough to settle now. */
  find(card: string, nowMs: number): PendingPurse | undefined {
    const pending = this.byCard.get(card);
    if (pending && nowMs - pending.atMs > this.windowMs) {
      this.byCard.delete(card);
      return undefined;
    }
    return pending;
  }

  get size(): number {
    return this.byCard.size;
  }

  /** A T-Union tap committed: a pending tap opens one; a tap that moved the card's purse again, or settled it, closes it. */
  record(tap: Tap): void {
    const purse = tap.purse;
    if (tap.kind !== 'tunion' || !purse) return;
    if (tap.reason === 'purchase-pending') {
      this.byCard.set(purse.card, { tap: tap.id, card: purse.card, category: tap.category ?? 'adult', atMs: Date.parse(tap.at), purse });
    } else if (closesPending(purse)) {
      this.byCard.delete(purse.card);
    }
  }
}

/** Whether a T-Union tap ends the card's pending purchase: it settled it, or a new purchase was written over it. */
export function closesPending(purse: PurseTapData): boolean {
  return purse.settles !== null || purse.transaction !== null;
}
