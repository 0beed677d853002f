import type { CardReader, CardReaderEvent } from '../cardReader.js';
import { PcscdConnection, type PcscdConnectionOptions } from './pcscdConnection.js';
import type { NativeReader } from './pcscNative.js';
import { PcscReaderSlot } from './pcscReaderSlot.js';
import { PcscReaderWatch } from './pcscReaderWatch.js';

export interface PcscReaderOptions extends PcscdConnectionOptions {
  /** Only readers whose name matches are used; default: all. */
  include?: RegExp;
  /** Readers whose name matches are left alone; default: SAM slots of dual readers. */
  exclude?: RegExp;
}

/** After connecting, pcscd lists its readers at once; if none came by then, there are none. */
const LIST_SETTLE_MS = 500;
/** Readers come and go in bursts (a dual reader, pcscd stopping): report the list once it is settled. */
const REPORT_DEBOUNCE_MS = 50;
const DEFAULT_EXCLUDE = /\bSAM\b/;

/**
 * Card readers through pcscd (any CCID reader, several at once, plugged and
 * unplugged while running). Cards arriving give `card-present` with a
 * channel, cards leaving `card-removed`. When pcscd goes away (restart,
 * crash) the driver says so in a `health` event and reconnects with backoff
 * until pcscd is back; readers and cards are then found again.
 *
 * Health: healthy while pcscd answers and at least one reader is in use.
 */
export class PcscCardReader implements CardReader {
  private listener: ((event: CardReaderEvent) => void) | undefined;
  private readonly pcscd: PcscdConnection;
  private readonly slots = new Map<string, PcscReaderSlot>();
  private settleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PcscReaderOptions = {}) {
    this.pcscd = new PcscdConnection(options, {
      reader: (native) => this.onReader(native),
      connected: () => (this.settleTimer = setTimeout(() => this.reportReaders(), LIST_SETTLE_MS)),
      release: (reason) => this.releaseSlots(reason),
      health: (healthy, detail) => this.listener?.({ type: 'health', healthy, detail }),
    });
  }

  /** Names of the readers in use now. */
  readerNames(): string[] {
    return [...this.slots.keys()];
  }

  async start(listener: (event: CardReaderEvent) => void): Promise<void> {
    this.listener = listener;
    await this.pcscd.start();
  }

  async stop(): Promise<void> {
    this.listener = undefined;
    await this.pcscd.stop('the card reader driver stopped');
  }

  private onReader(native: NativeReader): void {
    const accepted = (this.options.include ?? /./).test(native.name) && !(this.options.exclude ?? DEFAULT_EXCLUDE).test(native.name);
    if (!accepted || !this.listener) {
      // An 'error' event without a listener would throw out of the native callback.
      native.on('error', () => undefined);
      // pcsclite watches every reader pcscd lists, ours or not (a dual reader's SAM slot): a watcher left
      // running holds the process after the gate has stopped. Stop it as soon as it can be stopped.
      void new PcscReaderWatch(native).close();
      return;
    }
    const slot = new PcscReaderSlot(native, {
      emit: (event) => {
        // A card connected again after a reader-side problem: the reader works.
        if (event.type === 'card-present') this.reportReaders();
        this.listener?.(event);
      },
      problem: (detail) => this.pcscd.report(false, detail),
      ended: (ended) => {
        if (this.slots.get(ended.name) === ended) this.slots.delete(ended.name);
        this.reportReadersSoon();
      },
    });
    this.slots.set(native.name, slot);
    this.reportReadersSoon();
  }

  private reportReadersSoon(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.reportReaders(), REPORT_DEBOUNCE_MS);
  }

  private reportReaders(): void {
    clearTimeout(this.settleTimer);
    if (!this.pcscd.open) return;
    const names = this.readerNames();
    if (names.length === 0) this.pcscd.report(false, 'pcscd is running but reports no card reader: plug the reader in, then check `lsusb` and `pcsc_scan`');
    else this.pcscd.report(true, `pcscd connected; readers: ${names.join(', ')}`);
  }

  private async releaseSlots(reason: string): Promise<void> {
    clearTimeout(this.settleTimer);
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map((slot) => slot.shutdown(reason)));
  }
}
