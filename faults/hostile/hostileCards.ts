import type { ApduResponder } from '../../sim/virtualCard.js';
import { VirtualCard } from '../../sim/virtualCard.js';

const INS_INTERNAL_AUTHENTICATE = 0x88;

/** A genuine card that lets a skimmer in the reader record its answer to the challenge. */
export class RecordedCard implements ApduResponder {
  lastAuthentication: Uint8Array | undefined;

  constructor(private readonly card: VirtualCard) {}

  get atr(): Uint8Array {
    return this.card.atr;
  }

  reset(): void {
    this.card.reset();
  }

  respond(apdu: Uint8Array): Uint8Array {
    const response = this.card.respond(apdu);
    if (apdu[1] === INS_INTERNAL_AUTHENTICATE) this.lastAuthentication = response;
    return response;
  }
}

/** A clone that answers every challenge with the genuine card's recorded answer to an earlier one. */
export class ReplayingClone implements ApduResponder {
  private readonly clone: VirtualCard;

  constructor(
    genuine: VirtualCard,
    private readonly recorded: Uint8Array,
  ) {
    this.clone = genuine.clone();
  }

  get atr(): Uint8Array {
    return this.clone.atr;
  }

  reset(): void {
    this.clone.reset();
  }

  respond(apdu: Uint8Array): Uint8Array {
    return apdu[1] === INS_INTERNAL_AUTHENTICATE ? Uint8Array.from(this.recorded) : this.clone.respond(apdu);
  }
}
