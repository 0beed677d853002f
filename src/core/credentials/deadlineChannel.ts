import { performance } from 'node:perf_hooks';
import { CardIoError, type CardChannel } from '../../../hal/cardReader.js';

/**
 * A card channel with one deadline for the whole card flow: each exchange gets
 * what is left of it at most, and none starts after it. A slow or chatty card
 * (61xx chains, long records, many files) is then one `card-timeout` within
 * the deadline, not a lane held for minutes with codes queued behind it.
 */
export class DeadlineChannel implements CardChannel {
  private readonly endsAt: number;
  private exchanges = 0;

  constructor(
    private readonly inner: CardChannel,
    private readonly deadlineMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.endsAt = now() + deadlineMs;
  }

  get readerName(): string {
    return this.inner.readerName;
  }

  get atr(): Uint8Array {
    return this.inner.atr;
  }

  transmit(apdu: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const left = this.endsAt - this.now();
    if (left <= 0) return Promise.reject(new CardIoError('timeout', `the card flow passed its ${this.deadlineMs} ms deadline after ${this.exchanges} exchanges`));
    this.exchanges++;
    return this.inner.transmit(apdu, Math.max(1, Math.min(timeoutMs, Math.ceil(left))));
  }

  release(): Promise<void> {
    return this.inner.release();
  }
}
