import type { CardChannel } from '../hal/cardReader.js';
import type { ApduResponder } from '../sim/virtualCard.js';

/**
 * A card in the field, APDUs answered in-process: what sim/devices.ts does for
 * SimCardReader, without the reader's event plumbing, so the benchmark can
 * await the gate's outcome for exactly this presentation.
 */
export class BenchCardChannel implements CardChannel {
  readonly readerName = 'bench reader';

  constructor(private readonly card: ApduResponder) {
    card.reset();
  }

  get atr(): Uint8Array {
    return this.card.atr;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    return this.card.respond(apdu);
  }

  async release(): Promise<void> {}
}
