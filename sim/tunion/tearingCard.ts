import { CardIoError } from '../../hal/cardReader.js';
import type { ApduResponder } from '../virtualCard.js';

/**
 * A card pulled out of the field at one APDU: `before` the card gets it (the
 * command never reached the chip), or `after` the chip carried it out and
 * its answer was lost on the way back. Every APDU after that fails too.
 */
export class TearingCard implements ApduResponder {
  private count = 0;

  constructor(
    private readonly card: ApduResponder,
    private readonly tearAt: number,
    private readonly when: 'before' | 'after',
  ) {}

  get atr(): Uint8Array {
    return this.card.atr;
  }

  /** APDUs the card was sent, the torn one included. */
  get apdus(): number {
    return this.count;
  }

  reset(): void {
    this.count = 0;
    this.card.reset();
  }

  respond(apdu: Uint8Array): Uint8Array {
    this.count++;
    if (this.count < this.tearAt) return this.card.respond(apdu);
    if (this.count === this.tearAt && this.when === 'after') this.card.respond(apdu);
    throw new CardIoError('removed', `the card was pulled out at APDU ${this.tearAt} (${this.when} it reached the chip)`);
  }
}
