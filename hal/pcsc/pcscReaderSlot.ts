import { CardIoError, type CardReaderEvent } from '../cardReader.js';
import { PcscCardChannel } from './pcscCardChannel.js';
import type { NativeReader } from './pcscNative.js';
import { describePcscError, technicianText } from './pcscErrors.js';
import { PcscReaderWatch } from './pcscReaderWatch.js';

/**
 * How long shutdown waits for an exchange still in progress to end. The reader's watcher is stopped when
 * the exchange ends, however long that takes (the process cannot exit before: pcsclite's exchange holds a
 * libuv work request); the rest of the gate's stop need not wait that long.
 */
const SHUTDOWN_WAIT_MS = 2_000;

/** Result codes of a connect that say the card, not the reader, is the problem: nothing to alarm about. */
const CARD_SIDE = new Set(['SCARD_W_REMOVED_CARD', 'SCARD_E_NO_SMARTCARD', 'SCARD_W_UNRESPONSIVE_CARD', 'SCARD_W_UNPOWERED_CARD', 'SCARD_W_UNSUPPORTED_CARD', 'SCARD_E_PROTO_MISMATCH', 'SCARD_E_INVALID_ATR', 'SCARD_E_CARD_UNSUPPORTED']);

export interface SlotEvents {
  emit(event: CardReaderEvent): void;
  /** A reader-side problem a technician should see (the slot itself keeps working). */
  problem(detail: string): void;
  /** The reader left pcscd (unplugged, or pcscd lost it). */
  ended(slot: PcscReaderSlot): void;
}

/**
 * One PC/SC reader: watches its status for cards arriving and leaving (by
 * SCARD_STATE_PRESENT and pcscd's event counter, so a card swapped between two
 * polls is still a new card), connects to each new card and hands the gate a
 * channel. Connects and disconnects on the reader's one handle are serialised.
 */
export class PcscReaderSlot {
  private present = false;
  private eventCount = -1;
  private arrivals = 0;
  private channel: PcscCardChannel | undefined;
  private handleOps: Promise<void> = Promise.resolve();
  private readonly released = new WeakSet<PcscCardChannel>();
  private readonly watch: PcscReaderWatch;
  private closed = false;
  private shutdownDone: Promise<void> | undefined;

  constructor(
    private readonly native: NativeReader,
    private readonly events: SlotEvents,
  ) {
    this.watch = new PcscReaderWatch(native);
    native.on('status', (status) => this.onStatus(status.state, status.atr));
    native.on('error', (error) => {
      // pcscd itself going away is reported once, by the reader driver, not by every reader.
      if (!this.closed && !describePcscError(error).service) events.problem(`${native.name}: watching the reader failed: ${technicianText(error)}`);
    });
    native.on('end', () => this.onEnd());
  }

  get name(): string {
    return this.native.name;
  }

  /**
   * Stop using the reader: the channel fails with `reason`, the card is left, and the reader's watcher
   * thread is stopped (hal/pcsc/pcscReaderWatch.ts), after an exchange still under way has ended.
   * Resolves once the watcher is stopped, or after SHUTDOWN_WAIT_MS while an exchange is still stuck.
   */
  shutdown(reason: string): Promise<void> {
    this.shutdownDone ??= (async () => {
      this.closed = true;
      this.arrivals++;
      this.channel?.end(new CardIoError('reader-gone', `${this.name}: ${reason}`));
      this.channel = undefined;
      const stopped = this.watch.close(this.queueDisconnect());
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS)))]);
      clearTimeout(timer);
    })();
    return this.shutdownDone;
  }

  private onStatus(state: number, atr: Buffer | undefined): void {
    if (this.closed) return;
    const present = (state & this.native.SCARD_STATE_PRESENT) !== 0 && (state & this.native.SCARD_STATE_MUTE) === 0;
    // The upper 16 bits count card insertions and removals (pcsc-lite).
    const count = state >>> 16;
    const newEvent = count !== this.eventCount;
    this.eventCount = count;
    if (this.present && (!present || newEvent)) this.cardLeft();
    if (present && (!this.present || newEvent)) this.cardArrived(atr ?? Buffer.alloc(0));
    this.present = present;
  }

  private cardArrived(atr: Buffer): void {
    const arrival = ++this.arrivals;
    this.handleOps = this.handleOps.then(async () => {
      if (this.closed || arrival !== this.arrivals) return;
      const connected = await this.connect();
      if ('error' in connected) {
        const info = describePcscError(connected.error);
        if (!CARD_SIDE.has(info.name)) this.events.problem(`${this.name}: ${technicianText(connected.error)}`);
        return;
      }
      if (this.closed || arrival !== this.arrivals) {
        await this.disconnectHandle();
        return;
      }
      const channel: PcscCardChannel = new PcscCardChannel(this.name, new Uint8Array(atr), this.native, connected.protocol, () => this.release(channel));
      this.channel = channel;
      this.events.emit({ type: 'card-present', channel });
    });
  }

  private cardLeft(): void {
    this.arrivals++;
    const channel = this.channel;
    this.channel = undefined;
    if (channel) {
      channel.end(new CardIoError('removed', `${this.name}: the card left the field`));
      void this.release(channel);
    }
    this.events.emit({ type: 'card-removed', readerName: this.name });
  }

  private onEnd(): void {
    if (this.closed) return;
    const hadCard = this.present;
    void this.shutdown('the reader was unplugged, or pcscd lost it');
    if (hadCard) this.events.emit({ type: 'card-removed', readerName: this.name });
    this.events.ended(this);
  }

  private release(channel: PcscCardChannel): Promise<void> {
    if (this.released.has(channel)) return this.handleOps;
    this.released.add(channel);
    if (this.channel === channel) this.channel = undefined;
    return this.queueDisconnect();
  }

  private queueDisconnect(): Promise<void> {
    this.handleOps = this.handleOps.then(() => this.disconnectHandle());
    return this.handleOps;
  }

  private connect(): Promise<{ protocol: number } | { error: unknown }> {
    const n = this.native;
    return new Promise((resolve) => {
      n.connect({ share_mode: n.SCARD_SHARE_SHARED, protocol: n.SCARD_PROTOCOL_T0 | n.SCARD_PROTOCOL_T1 }, (error, protocol) => resolve(error ? { error } : { protocol }));
    });
  }

  /** Leave the card as it is: the next tap is a new arrival anyway. Errors only mean the handle is already gone. */
  private disconnectHandle(): Promise<void> {
    if (!this.native.connected) return Promise.resolve();
    return new Promise((resolve) => this.native.disconnect(this.native.SCARD_LEAVE_CARD, () => resolve()));
  }
}
