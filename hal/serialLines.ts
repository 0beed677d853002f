import type { SerialPort } from 'serialport';
import { z } from 'zod';

/** The port settings every line-based serial device shares. */
export const serialLineOptions = {
  path: z.string().min(1),
  baudRate: z.number().int().min(1200).max(921_600).default(9600),
  reopenMinMs: z.number().int().min(10).max(60_000).default(250),
  reopenMaxMs: z.number().int().min(10).max(600_000).default(10_000),
};

export interface SerialLineSettings {
  path: string;
  baudRate: number;
  reopenMinMs: number;
  reopenMaxMs: number;
}

export interface SerialLineHandlers {
  /** One line, without its CR or LF; never empty. */
  line(line: Buffer): void;
  /** The port opened (`open`), or went away or cannot be opened (`lost`, with why and when it is tried again). */
  port(state: 'open' | 'lost', detail: string): void;
  /** More than `maxLineBytes` without an end of line: the bytes are dropped up to the next one. */
  overflow(bytes: number): void;
}

/**
 * What ends a line: any CR or LF (a GPS receiver, a driver console), one exact
 * byte sequence (a scan module's), or a quiet line for `idleMs` (a scan module
 * sending a binary payload's bytes, which may contain any terminator).
 */
export type LineEnd = 'cr-or-lf' | Buffer | { idleMs: number };

/**
 * A serial device that sends text lines (a scan module, a GPS receiver, a
 * driver console). The port is opened lazily (the serialport module is
 * native) and reopened with a doubling backoff when it cannot be opened or
 * goes away (unplugged).
 */
export class SerialLines {
  private port: SerialPort | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private running = false;
  private pending: Buffer = Buffer.alloc(0);
  private discarding = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: SerialLineSettings,
    private readonly maxLineBytes: number,
    private readonly handlers: SerialLineHandlers,
    private readonly lineEnd: LineEnd = 'cr-or-lf',
  ) {
    this.backoffMs = settings.reopenMinMs;
  }

  describePort(): string {
    return `${this.settings.path} at ${this.settings.baudRate} 8N1`;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.open();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reopenTimer);
    clearTimeout(this.idleTimer);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private async open(): Promise<void> {
    let SerialPortClass: typeof SerialPort;
    try {
      ({ SerialPort: SerialPortClass } = await import('serialport'));
    } catch (error) {
      this.handlers.port('lost', `the serialport module cannot be loaded: ${(error as Error).message}`);
      return;
    }
    if (!this.running) return;
    const port = new SerialPortClass({ path: this.settings.path, baudRate: this.settings.baudRate, dataBits: 8, stopBits: 1, parity: 'none', autoOpen: false });
    const error = await new Promise<Error | null>((resolve) => port.open((err) => resolve(err)));
    if (!this.running) {
      if (!error) port.close();
      return;
    }
    if (error) {
      this.retry(`cannot open ${this.describePort()}: ${error.message}`);
      return;
    }
    this.port = port;
    this.pending = Buffer.alloc(0);
    this.discarding = false;
    this.backoffMs = this.settings.reopenMinMs;
    // Bytes still arriving while stop() closes the port are not passed on: the reader has been told to stop.
    port.on('data', (chunk: Buffer) => {
      if (this.running && this.port === port) this.receive(chunk);
    });
    port.on('error', (err: Error) => this.lost(port, `error on ${this.describePort()}: ${err.message}`));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      this.lost(port, err?.disconnected ? `${this.settings.path} was unplugged` : `${this.settings.path} was closed`);
    });
    this.handlers.port('open', `listening on ${this.describePort()}`);
  }

  private lost(port: SerialPort, why: string): void {
    if (!this.running || this.port !== port) return;
    this.port = undefined;
    if (port.isOpen) port.close();
    this.retry(why);
  }

  private retry(why: string): void {
    this.handlers.port('lost', `${why}; reopening in ${this.backoffMs} ms`);
    this.reopenTimer = setTimeout(() => void this.open(), this.backoffMs);
    this.backoffMs = Math.min(this.settings.reopenMaxMs, this.backoffMs * 2);
  }

  /** Bytes up to a quiet spell of `idleMs` are one line; a line too long is dropped whole. */
  private receiveFramed(idleMs: number): void {
    clearTimeout(this.idleTimer);
    if (this.pending.length > this.maxLineBytes) {
      this.handlers.overflow(this.pending.length);
      this.pending = Buffer.alloc(0);
      this.discarding = true;
    }
    this.idleTimer = setTimeout(() => {
      const line = this.pending;
      this.pending = Buffer.alloc(0);
      if (this.discarding) this.discarding = false;
      else if (line.length > 0 && this.running) this.handlers.line(line);
    }, idleMs);
  }

  /** Where the next line ends in `pending` from `from`, and how long its end is; undefined if it has not ended yet. */
  private nextEnd(from: number): { at: number; length: number } | undefined {
    if (typeof this.lineEnd === 'object' && !Buffer.isBuffer(this.lineEnd)) return undefined;
    if (this.lineEnd === 'cr-or-lf') {
      for (let i = from; i < this.pending.length; i++) if (this.pending[i] === 0x0a || this.pending[i] === 0x0d) return { at: i, length: 1 };
      return undefined;
    }
    const at = this.pending.indexOf(this.lineEnd, from);
    return at < 0 ? undefined : { at, length: this.lineEnd.length };
  }

  private receive(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (typeof this.lineEnd === 'object' && !Buffer.isBuffer(this.lineEnd)) return this.receiveFramed(this.lineEnd.idleMs);
    let start = 0;
    for (let end = this.nextEnd(start); end; end = this.nextEnd(start)) {
      const line = this.pending.subarray(start, end.at);
      start = end.at + end.length;
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      if (line.length > 0) this.handlers.line(line);
    }
    this.pending = this.pending.subarray(start);
    if (this.pending.length > this.maxLineBytes) {
      this.handlers.overflow(this.pending.length);
      this.pending = Buffer.alloc(0);
      this.discarding = true;
    }
  }
}
