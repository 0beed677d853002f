/**
 * A contactless/contact card reader. Shaped after PC/SC (pcsclite): a reader
 * reports cards arriving and leaving, and a present card is reached through a
 * channel that exchanges APDUs.
 */
export interface CardChannel {
  /** Name of the reader the card sits on (several readers per gate are allowed). */
  readonly readerName: string;
  /** Answer-to-reset bytes, as the reader reported them. */
  readonly atr: Uint8Array;
  /**
   * Send one command APDU and return the full response APDU (data || SW1 SW2).
   * Rejects with a {@link CardIoError}; `kind: 'removed'` when the card left the field.
   */
  transmit(apdu: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Release the card (the reader may power it down). Never rejects. */
  release(): Promise<void>;
}

export type CardIoErrorKind = 'removed' | 'timeout' | 'reader-gone' | 'io';

/** The one error type a reader driver raises; `detail` is for the technician's log. */
export class CardIoError extends Error {
  constructor(
    readonly kind: CardIoErrorKind,
    readonly detail: string,
  ) {
    super(`${kind}: ${detail}`);
    this.name = 'CardIoError';
  }
}

export type CardReaderEvent =
  | { type: 'card-present'; channel: CardChannel }
  | { type: 'card-removed'; readerName: string }
  | { type: 'health'; healthy: boolean; detail: string };

export interface CardReader {
  /** Start watching the readers; events flow to the listener until stop(). */
  start(listener: (event: CardReaderEvent) => void): Promise<void>;
  stop(): Promise<void>;
}
