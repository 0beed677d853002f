import { CardIoError } from '../cardReader.js';
import type { SamSlot } from '../samSlot.js';
import { PcscdConnection, type PcscdConnectionOptions } from './pcscdConnection.js';
import type { NativeReader } from './pcscNative.js';
import { cardIoErrorOf, technicianText } from './pcscErrors.js';
import { PcscReaderWatch } from './pcscReaderWatch.js';

/** Short APDUs: up to 256 data bytes and the status word. */
const MAX_RESPONSE = 258;

/** pcscd's socket is the same pcscd as the card readers', one per process. */
export interface PcscSamOptions extends PcscdConnectionOptions {
  /** The SAM slot's reader: the first reader whose name matches. */
  reader: RegExp;
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
  private readonly pcscd: PcscdConnection;
  private reader: { native: NativeReader; watch: PcscReaderWatch } | undefined;
  private readonly others: PcscReaderWatch[] = [];
  private connected: Connected | undefined;
  private connecting: Promise<void> | undefined;
  private present = false;

  constructor(private readonly options: PcscSamOptions) {
    this.pcscd = new PcscdConnection(options, {
      reader: (native) => this.onReader(native),
      release: () => this.release(),
      health: (healthy, detail) => this.health?.(healthy, detail),
    });
  }

  get name(): string {
    return this.reader?.native.name ?? `SAM slot /${this.options.reader.source}/`;
  }

  async start(health: (healthy: boolean, detail: string) => void): Promise<void> {
    this.health = health;
    await this.pcscd.start();
  }

  async stop(): Promise<void> {
    this.health = undefined;
    await this.pcscd.stop('the SAM slot driver stopped');
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
        this.pcscd.report(false, `${native.name}: no PSAM in the slot`);
      }
    });
    native.on('end', () => {
      if (this.reader?.native !== native) return;
      this.reader = undefined;
      this.present = false;
      this.connected = undefined;
      this.pcscd.report(false, `${native.name}: the SAM slot's reader was unplugged, or pcscd lost it`);
    });
  }

  private connectModule(): Promise<void> {
    this.connecting ??= (async () => {
      const native = this.reader?.native;
      if (!native || this.connected) return;
      const result = await new Promise<{ protocol: number } | { error: Error }>((resolve) =>
        native.connect({ share_mode: native.SCARD_SHARE_SHARED, protocol: native.SCARD_PROTOCOL_T0 | native.SCARD_PROTOCOL_T1 }, (error, protocol) => resolve(error ? { error } : { protocol })),
      );
      if ('error' in result) this.pcscd.report(false, `${native.name}: cannot connect to the PSAM: ${technicianText(result.error)}`);
      else {
        this.connected = { native, protocol: result.protocol };
        this.pcscd.report(true, `${native.name}: PSAM connected`);
      }
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private disconnect(connected: Connected): Promise<void> {
    if (this.connected === connected) this.connected = undefined;
    if (!connected.native.connected) return Promise.resolve();
    return new Promise((resolve) => connected.native.disconnect(connected.native.SCARD_LEAVE_CARD, () => resolve()));
  }

  private async release(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    const connected = this.connected;
    this.connected = undefined;
    this.present = false;
    const free = connected ? this.disconnect(connected) : Promise.resolve();
    await Promise.all([reader?.watch.close(free), ...this.others.splice(0).map((w) => w.close())]);
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
