/**
 * A secure access module in a reader's SAM slot (a PSAM holding the purse
 * purchase keys). The slot keeps its module connected and reconnects after a
 * reset or a pcscd restart; the application on it (src/core) selects itself
 * again after any failed exchange.
 */
export interface SamSlot {
  /** The slot's name (the PC/SC reader), for the technician. */
  readonly name: string;
  /** Start watching the slot; `health` follows the module being there and answering. */
  start(health: (healthy: boolean, detail: string) => void): Promise<void>;
  /**
   * Exchange one APDU with the module; rejects with a CardIoError
   * (`reader-gone` while no module is connected).
   */
  transmit(apdu: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  stop(): Promise<void>;
}
