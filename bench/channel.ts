import { performance } from 'node:perf_hooks';
import type { CardChannel } from '../hal/cardReader.js';
import type { ApduResponder } from '../sim/virtualCard.js';

/**
 * A card in the field, APDUs answered in-process: what sim/devices.ts does for
 * SimCardReader, without the reader's event plumbing, so the benchmark can
 * await the gate's outcome for exactly this presentation.
 */
export class BenchCardChannel implements CardChannel {
  readonly readerName = 'bench reader';
  /** With `timeCard`: microseconds the card spent answering, summed over this presentation. */
  cardUs = 0;

  constructor(
    private readonly card: ApduResponder,
    private readonly timeCard = false,
  ) {
    card.reset();
  }

  get atr(): Uint8Array {
    return this.card.atr;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (!this.timeCard) return this.card.respond(apdu);
    const t0 = performance.now();
    const response = this.card.respond(apdu);
    this.cardUs += (performance.now() - t0) * 1000;
    return response;
  }

  async release(): Promise<void> {}
}
