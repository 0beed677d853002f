import { CardIoError } from '../../hal/cardReader.js';
import type { SamSlot } from '../../hal/samSlot.js';
import type { ApduResponder } from '../virtualCard.js';

/**
 * A SAM slot with a virtual PSAM in it, in-process. `pull()` takes the PSAM
 * out (every exchange fails, health false), `insert()` puts it back.
 */
export class VirtualSamSlot implements SamSlot {
  private health: ((healthy: boolean, detail: string) => void) | undefined;
  private present = true;

  constructor(
    private readonly sam: ApduResponder | undefined,
    readonly name = 'sim SAM slot',
  ) {
    this.present = sam !== undefined;
  }

  async start(health: (healthy: boolean, detail: string) => void): Promise<void> {
    this.health = health;
    this.sam?.reset();
    health(this.present, this.present ? `${this.name}: PSAM present` : `${this.name}: no PSAM in the slot`);
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (!this.present || !this.sam) throw new CardIoError('reader-gone', `${this.name}: no PSAM in the slot`);
    return this.sam.respond(apdu);
  }

  async stop(): Promise<void> {
    this.health = undefined;
  }

  pull(): void {
    this.present = false;
    this.health?.(false, `${this.name}: the PSAM was taken out`);
  }

  insert(): void {
    if (!this.sam) return;
    this.present = true;
    this.sam.reset();
    this.health?.(true, `${this.name}: PSAM present`);
  }
}
