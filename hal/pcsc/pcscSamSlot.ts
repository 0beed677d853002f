import { CardIoError } from '../cardReader.js';
import type { SamSlot } from '../samSlot.js';
import { loadPcsclite, type NativeContext, type NativeFactory, type NativeReader } from './pcscNative.js';
import { cardIoErrorOf, technicianText } from './pcscErrors.js';
import { PcscReaderWatch } from './pcscReaderWatch.js';

/** Short APDUs: up to 256 data bytes and the status word. */
const MAX_RESPONSE = 258;
const DEFAULT_RECONNECT = { first: 200, max: 5_000 };

export interface PcscSamOptions {
  /** pcscd's socket (sets PCSCLITE_CSOCK_NAME); the same pcscd as the card readers, one per process. */
  socket?: string;
  /** The SAM slot's reader: the first reader whose name matches. */
  reader: RegExp;
  reconnectMs?: { first: number; max: number };
}

interface Connected {
  native: NativeReader;
  protocol: number;
}

/**
 * The PSAM in a PC/SC reader's SAM slot (a dual reader's "SAM" reader, or a
 * reader of its own). It stays connected while the module is in the slot;
 * a module pulled, a reset, a reader unplugged or pcscd gone is reported in
 * `health`, and it connects again once the module is back. Exchanges never
 * overlap: the gate runs one purchase at a time.
 */
export class PcscSamSlot implements SamSlot {
  private health: ((healthy: boolean, detail: string) => void) | undefined;
  private factory: NativeFactory | undefined;
  private context: NativeContext | undefined;
  private reader: { native: NativeReader; watch: PcscReaderWatch } | undefined;
  private readonly others: PcscReaderWatch[] = [];
  private connected: Connected | undefined;
  private connecting: Promise<void> | undefined;
  private present = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay: number;
  private lastHealth = '';

  constructor(private readonly options: PcscSamOptions) {
    this.reconnectDelay = this.backoff.first;
  }

  get name(): string {
    return this.reader?.native.name ?? `SAM slot /${this.options.reader.source}/`;
  }

  async start(health: (healthy: boolean, detail: string) => void): Promise<void> {
    this.health = health;
    const loaded = await loadPcsclite(this.options.socket);
    if ('error' in loaded) {
      this.report(false, loaded.error);
      return;
    }
    this.factory = loaded.factory;
    this.connect();
  }

  async stop(): Promise<void> {
    this.health = undefined;
    clearTimeout(this.reconnectTimer);
    await this.drop();
  }

  async transmit(apdu: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (!this.connected && this.present) await this.connectModule();
    const connected = this.connected;
    if (!connected) throw new CardIoError('reader-gone', `${this.name}: no PSAM connected`);
    try {
      return await exchange(connected, apdu, timeoutMs, this.name);
    } catch (error) {
      // A failed exchange (a reset, a module pulled) leaves the connection unusable: the next one connects again.
      await this.disconnect(connected);
      throw error;
    }
  }

  private get backoff(): { first: number; max: number } {
    return this.options.reconnectMs ?? DEFAULT_RECONNECT;
  }

  private connect(): void {
    if (!this.health || !this.factory) return;
    let context: NativeContext;
    try {
      context = this.factory();
    } catch (error) {
      this.report(false, `cannot reach pcscd: ${technicianText(error)}; retrying`);
      this.scheduleReconnect();
      return;
    }
    this.context = context;
    this.reconnectDelay = this.backoff.first;
    context.on('error', (error) => {
      if (context !== this.context) return;
      void this.drop().then(() => {
        this.report(false, `lost pcscd: ${technicianText(error)}; reconnecting`);
        this.scheduleReconnect();
      });
    });
    context.on('reader', (native) => this.onReader(native));
  }

  private scheduleReconnect(): void {
    if (!this.health) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
    this.reconnectDelay = Math.min(this.backoff.max, this.reconnectDelay * 2);
  }

  private onReader(native: NativeReader): void {
    native.on('error', () => undefined);
    const watch = new PcscReaderWatch(native);
    if (this.reader || !this.options.reader.test(native.name)) {
      // Every reader pcscd lists gets a watcher thread: stop those that are not the slot, or the process never exits.
      this.others.push(watch);
      void watch.close();
      return;
    }
    this.reader = { native, watch };
    native.on('status', (status) => {
      const present = (status.state & native.SCARD_STATE_PRESENT) !== 0 && (status.state & native.SCARD_STATE_MUTE) === 0;
      if (present === this.present) return;
      this.present = present;
      if (present) void this.connectModule();
      else {
        if (this.connected) void this.disconnect(this.connected);
        this.report(false, `${native.name}: no PSAM in the slot`);
      }
    });
    native.on('end', () => {
      if (this.reader?.native !== native) return;
      this.reader = undefined;
      this.present = false;
      this.connected = undefined;
      this.report(false, `${native.name}: the SAM slot's reader was unplugged, or pcscd lost it`);
    });
  }

  private connectModule(): Promise<void> {
    this.connecting ??= (async () => {
      const native = this.reader?.native;
      if (!native || this.connected) return;
      const result = await new Promise<{ protocol: number } | { error: Error }>((resolve) =>
        native.connect({ share_mode: native.SCARD_SHARE_SHARED, protocol: native.SCARD_PROTOCOL_T0 | native.SCARD_PROTOCOL_T1 }, (error, protocol) => resolve(error ? { error } : { protocol })),
      );
      if ('error' in result) this.report(false, `${native.name}: cannot connect to the PSAM: ${technicianText(result.error)}`);
      else {
        this.connected = { native, protocol: result.protocol };
        this.report(true, `${native.name}: PSAM connected`);
      }
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private disconnect(connected: Connected): Promise<void> {
    if (this.connected === connected) this.connected = undefined;
    if (!connected.native.connected) return Promise.resolve();
    return new Promise((resolve) => connected.native.disconnect(connected.native.SCARD_LEAVE_CARD, () => resolve()));
  }

  private async drop(): Promise<void> {
    const context = this.context;
    this.context = undefined;
    const reader = this.reader;
    this.reader = undefined;
    const connected = this.connected;
    this.connected = undefined;
    this.present = false;
    const free = connected ? this.disconnect(connected) : Promise.resolve();
    await Promise.all([reader?.watch.close(free), ...this.others.splice(0).map((w) => w.close())]);
    // Not from inside the context's own error callback.
    await new Promise((resolve) => setImmediate(resolve));
    context?.close();
  }

  private report(healthy: boolean, detail: string): void {
    const key = `${healthy}:${detail}`;
    if (key === this.lastHealth) return;
    this.lastHealth = key;
    this.health?.(healthy, detail);
  }
}

function exchange(connected: Connected, apdu: Uint8Array, timeoutMs: number, name: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new CardIoError('timeout', `${name}: the PSAM did not answer within ${timeoutMs} ms`)), timeoutMs);
    connected.native.transmit(Buffer.from(apdu), MAX_RESPONSE, connected.protocol, (error, response) => {
      clearTimeout(timer);
      if (error) reject(cardIoErrorOf(error, name));
      else if (response.length < 2) reject(new CardIoError('io', `${name}: the PSAM answered ${response.length} bytes`));
      else resolve(new Uint8Array(response));
    });
  });
}
