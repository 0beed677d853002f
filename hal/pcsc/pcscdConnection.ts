import { loadPcsclite, type NativeContext, type NativeFactory, type NativeReader } from './pcscNative.js';
import { technicianText } from './pcscErrors.js';

const DEFAULT_RECONNECT = { first: 200, max: 5_000 };

export interface PcscdConnectionOptions {
  /** pcscd's socket (sets PCSCLITE_CSOCK_NAME); default: libpcsclite's own, /run/pcscd/pcscd.comm. */
  socket?: string;
  /** Reconnect backoff after pcscd went away: first delay, doubling up to max. */
  reconnectMs?: { first: number; max: number };
}

/** What a driver on pcscd (the card readers, the SAM slot) does with the connection. */
export interface PcscdDriver {
  /** A reader pcscd lists, at connection and whenever one is plugged in. */
  reader(native: NativeReader): void;
  /** Connected to pcscd, at start or again. */
  connected?(): void;
  /** The context is going (pcscd lost, or the driver stopping): let go of what hangs on it; `reason` says why. */
  release(reason: string): Promise<void>;
  /** A health line, only when it changed. */
  health(healthy: boolean, detail: string): void;
}

/**
 * A driver's context on pcscd: opened at start, and when pcscd goes away
 * (restart, crash) dropped, reported and opened again with backoff until
 * pcscd is back. Health lines go to the driver once each, not repeated.
 */
export class PcscdConnection {
  private factory: NativeFactory | undefined;
  private context: NativeContext | undefined;
  private running = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay: number;
  private lastHealth: string | undefined;

  constructor(
    private readonly options: PcscdConnectionOptions,
    private readonly driver: PcscdDriver,
  ) {
    this.reconnectDelay = this.backoff.first;
  }

  /** Whether a context on pcscd is open now. */
  get open(): boolean {
    return this.context !== undefined;
  }

  async start(): Promise<void> {
    this.running = true;
    const loaded = await loadPcsclite(this.options.socket);
    if ('error' in loaded) {
      this.report(false, loaded.error);
      return;
    }
    if (!this.running) return;
    this.factory = loaded.factory;
    this.connect();
  }

  /** No more reconnects; the context closed once the driver has let go of it. */
  async stop(reason: string): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    await this.drop(reason);
  }

  report(healthy: boolean, detail: string): void {
    const key = `${healthy}:${detail}`;
    if (key === this.lastHealth) return;
    this.lastHealth = key;
    this.driver.health(healthy, detail);
  }

  private get backoff(): { first: number; max: number } {
    return this.options.reconnectMs ?? DEFAULT_RECONNECT;
  }

  private connect(): void {
    if (!this.running || !this.factory) return;
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
    context.on('error', (error) => void this.lost(context, error));
    context.on('reader', (native) => this.driver.reader(native));
    this.driver.connected?.();
  }

  private async lost(context: NativeContext, error: Error): Promise<void> {
    if (context !== this.context) return;
    const detail = `lost pcscd: ${technicianText(error)}`;
    await this.drop(detail);
    this.report(false, `${detail}; reconnecting`);
    this.scheduleReconnect();
  }

  private async drop(reason: string): Promise<void> {
    const context = this.context;
    this.context = undefined;
    await this.driver.release(reason);
    // Not from inside the context's own error callback.
    await new Promise((resolve) => setImmediate(resolve));
    context?.close();
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
    this.reconnectDelay = Math.min(this.backoff.max, this.reconnectDelay * 2);
  }
}
