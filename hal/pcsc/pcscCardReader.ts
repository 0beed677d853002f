import type { CardReader, CardReaderEvent } from '../cardReader.js';
import { loadPcsclite, type NativeContext, type NativeFactory, type NativeReader } from './pcscNative.js';
import { technicianText } from './pcscErrors.js';
import { PcscReaderSlot } from './pcscReaderSlot.js';
import { PcscReaderWatch } from './pcscReaderWatch.js';

export interface PcscReaderOptions {
  /** pcscd's socket (sets PCSCLITE_CSOCK_NAME); default: libpcsclite's own, /run/pcscd/pcscd.comm. */
  socket?: string;
  /** Only readers whose name matches are used; default: all. */
  include?: RegExp;
  /** Readers whose name matches are left alone; default: SAM slots of dual readers. */
  exclude?: RegExp;
  /** Reconnect backoff after pcscd went away: first delay, doubling up to max. */
  reconnectMs?: { first: number; max: number };
}

/** After connecting, pcscd lists its readers at once; if none came by then, there are none. */
const LIST_SETTLE_MS = 500;
/** Readers come and go in bursts (a dual reader, pcscd stopping): report the list once it is settled. */
const REPORT_DEBOUNCE_MS = 50;
const DEFAULT_RECONNECT = { first: 200, max: 5_000 };
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
  private factory: NativeFactory | undefined;
  private context: NativeContext | undefined;
  private readonly slots = new Map<string, PcscReaderSlot>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private reconnectDelay: number;
  private lastHealth: string | undefined;

  constructor(private readonly options: PcscReaderOptions = {}) {
    this.reconnectDelay = this.backoff.first;
  }

  /** Names of the readers in use now. */
  readerNames(): string[] {
    return [...this.slots.keys()];
  }

  async start(listener: (event: CardReaderEvent) => void): Promise<void> {
    this.listener = listener;
    const loaded = await loadPcsclite(this.options.socket);
    if ('error' in loaded) {
      this.health(false, loaded.error);
      return;
    }
    this.factory = loaded.factory;
    this.connect();
  }

  async stop(): Promise<void> {
    this.listener = undefined;
    clearTimeout(this.reconnectTimer);
    await this.dropContext('the card reader driver stopped');
  }

  private get backoff(): { first: number; max: number } {
    return this.options.reconnectMs ?? DEFAULT_RECONNECT;
  }

  private connect(): void {
    if (!this.listener || !this.factory) return;
    let context: NativeContext;
    try {
      context = this.factory();
    } catch (error) {
      this.health(false, `cannot reach pcscd: ${technicianText(error)}; retrying`);
      this.scheduleReconnect();
      return;
    }
    this.context = context;
    this.reconnectDelay = this.backoff.first;
    context.on('error', (error) => void this.onContextError(context, error));
    context.on('reader', (reader) => this.onReader(reader));
    this.settleTimer = setTimeout(() => this.reportReaders(), LIST_SETTLE_MS);
  }

  private async onContextError(context: NativeContext, error: Error): Promise<void> {
    if (context !== this.context) return;
    const detail = `lost pcscd: ${technicianText(error)}`;
    await this.dropContext(detail);
    this.health(false, `${detail}; reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.listener) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
    this.reconnectDelay = Math.min(this.backoff.max, this.reconnectDelay * 2);
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
      problem: (detail) => this.health(false, detail),
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
    if (!this.context) return;
    const names = this.readerNames();
    if (names.length === 0) this.health(false, 'pcscd is running but reports no card reader: plug the reader in, then check `lsusb` and `pcsc_scan`');
    else this.health(true, `pcscd connected; readers: ${names.join(', ')}`);
  }

  private async dropContext(reason: string): Promise<void> {
    clearTimeout(this.settleTimer);
    const context = this.context;
    this.context = undefined;
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map((slot) => slot.shutdown(reason)));
    // Not from inside the context's own error callback.
    await new Promise((resolve) => setImmediate(resolve));
    context?.close();
  }

  private health(healthy: boolean, detail: string): void {
    const key = `${healthy}:${detail}`;
    if (key === this.lastHealth) return;
    this.lastHealth = key;
    this.listener?.({ type: 'health', healthy, detail });
  }
}
