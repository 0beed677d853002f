import { performance } from 'node:perf_hooks';
import { CardIoError, type CardChannel } from '../cardReader.js';
import type { NativeReader } from './pcscNative.js';
import { cardIoErrorOf, describePcscError, technicianText } from './pcscErrors.js';

/** Short APDUs: up to 256 data bytes and the status word. */
const MAX_RESPONSE = 258;
/** How long release() waits for the reader to let go: a card stuck mid-exchange must not hold up the gate. */
const RELEASE_WAIT_MS = 300;

type Exchange = { response: Uint8Array } | { error: unknown } | { timedOut: true };

/**
 * A card on a PC/SC reader, connected. pcsclite has no transmit timeout, so a
 * timer races each exchange; a channel that timed out or failed once stays
 * failed. When the reader fails an exchange without saying why, the channel
 * waits (within the timeout) to see whether the card left the reader: if it
 * did, the failure is the card being pulled out.
 */
export class PcscCardChannel implements CardChannel {
  private failure: CardIoError | undefined;
  private busy = false;
  private released = false;
  private readonly goneWaiters = new Set<() => void>();

  constructor(
    readonly readerName: string,
    readonly atr: Uint8Array,
    private readonly reader: NativeReader,
    private readonly protocol: number,
    private readonly disconnect: () => Promise<void>,
  ) {}

  /** The card left the field or the reader went away: every exchange from now on fails with `error`. */
  end(error: CardIoError): void {
    this.failure ??= error;
    for (const wake of this.goneWaiters) wake();
    this.goneWaiters.clear();
  }

  get ended(): boolean {
    return this.failure !== undefined;
  }

  async transmit(apdu: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.failure) throw this.failure;
    if (this.busy) throw new CardIoError('io', `${this.readerName}: another exchange with this card is still in progress`);
    this.busy = true;
    const deadline = performance.now() + timeoutMs;
    try {
      const result = await this.exchange(apdu, timeoutMs);
      if ('response' in result) return result.response;
      if ('timedOut' in result) {
        this.failure ??= new CardIoError('timeout', `${this.readerName}: the card did not answer within ${timeoutMs} ms`);
        throw this.failure;
      }
      const failure = await this.classify(result.error, deadline);
      this.failure ??= failure;
      throw this.failure;
    } finally {
      this.busy = false;
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.end(new CardIoError('io', `${this.readerName}: the card was released`));
    await Promise.race([this.disconnect(), new Promise((resolve) => setTimeout(resolve, RELEASE_WAIT_MS).unref())]);
  }

  private exchange(apdu: Uint8Array, timeoutMs: number): Promise<Exchange> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
      this.reader.transmit(Buffer.from(apdu), MAX_RESPONSE, this.protocol, (error, response) => {
        clearTimeout(timer);
        if (error) resolve({ error });
        // A reader that loses the card mid-exchange may report success with nothing received.
        else if (response.length < 2) resolve({ error: new Error(`the card answered ${response.length} bytes, not even a status word`) });
        else resolve({ response: new Uint8Array(response) });
      });
    });
  }

  private async classify(error: unknown, deadline: number): Promise<CardIoError> {
    if (!describePcscError(error).ambiguous) return cardIoErrorOf(error, this.readerName);
    const gone = await this.goneWithin(deadline - performance.now());
    return gone ? new CardIoError('removed', `${this.readerName}: the card left the field during the exchange (${technicianText(error)})`) : cardIoErrorOf(error, this.readerName);
  }

  private goneWithin(ms: number): Promise<boolean> {
    if (this.failure) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.goneWaiters.delete(wake);
        resolve(false);
      }, Math.max(0, ms));
      this.goneWaiters.add(wake);
    });
  }
}
