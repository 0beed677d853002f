import type { SerialPort } from 'serialport';
import { z } from 'zod';
import type { CodeScanner, CodeScannerEvent } from './codeScanner.js';

/** The most characters a QR symbol holds (version 40-L, alphanumeric mode). */
export const QR_MAX_CHARS = 4296;

export const serialScannerOptionsSchema = z.strictObject({
  path: z.string().min(1),
  baudRate: z.number().int().min(1200).max(921_600).default(9600),
  /** End of each code: `cr` (most scan modules' default), `lf`, `crlf`, or one byte value. */
  terminator: z.union([z.enum(['cr', 'lf', 'crlf']), z.number().int().min(0).max(255)]).default('cr'),
  /** Text the module puts before / after each code (an AIM identifier such as `]Q1`, a custom tag); removed. */
  prefix: z.string().default(''),
  suffix: z.string().default(''),
  reopenMinMs: z.number().int().min(10).max(60_000).default(250),
  reopenMaxMs: z.number().int().min(10).max(600_000).default(10_000),
});

export type SerialScannerOptions = z.output<typeof serialScannerOptionsSchema>;

const TERMINATORS: Record<'cr' | 'lf' | 'crlf', Buffer> = { cr: Buffer.from('\r'), lf: Buffer.from('\n'), crlf: Buffer.from('\r\n') };

/** What one received line is: a code, nothing (blank), or garbage with the reason. */
export type ScannedLine = { kind: 'code'; text: string } | { kind: 'blank' } | { kind: 'garbage'; reason: string };

/**
 * Validates one line the module sent (terminator already removed): the text
 * of a code is printable UTF-8 within the QR capacity; anything else is what a
 * wrong baud rate, a loose wire or a misconfigured module produces.
 */
export function parseScannedLine(line: Buffer, options: Pick<SerialScannerOptions, 'prefix' | 'suffix'>): ScannedLine {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(line);
  } catch {
    return { kind: 'garbage', reason: `${line.length} bytes that are not UTF-8` };
  }
  // A module set to CRLF while the gate expects CR (or the reverse) leaves a stray CR or LF: not worth a complaint.
  text = text.replace(/^[\r\n]+|[\r\n]+$/g, '');
  if (text === '') return { kind: 'blank' };
  if (options.prefix) {
    if (!text.startsWith(options.prefix)) return { kind: 'garbage', reason: `a line without the prefix ${JSON.stringify(options.prefix)}` };
    text = text.slice(options.prefix.length);
  }
  if (options.suffix) {
    if (!text.endsWith(options.suffix)) return { kind: 'garbage', reason: `a line without the suffix ${JSON.stringify(options.suffix)}` };
    text = text.slice(0, -options.suffix.length);
  }
  if (text === '') return { kind: 'blank' };
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) return { kind: 'garbage', reason: `a line with control characters (${text.length} characters)` };
  if (text.length > QR_MAX_CHARS) return { kind: 'garbage', reason: `a line of ${text.length} characters, more than a QR code holds` };
  return { kind: 'code', text };
}

/**
 * A serial QR scan module (UART or USB-CDC) that decodes codes itself and
 * sends each as a line of text. The port is reopened with a doubling backoff
 * when it cannot be opened or goes away (unplugged), and health says so.
 */
export class SerialScanner implements CodeScanner {
  private listener: ((event: CodeScannerEvent) => void) | undefined;
  private port: SerialPort | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private running = false;
  private pending: Buffer = Buffer.alloc(0);
  /** A line grew past the cap: its bytes are thrown away until the next terminator. */
  private discarding = false;
  private healthy: boolean | undefined;
  private lastDetail = '';
  private readonly terminator: Buffer;
  private readonly maxLineBytes: number;

  constructor(private readonly options: SerialScannerOptions) {
    this.backoffMs = options.reopenMinMs;
    this.terminator = typeof options.terminator === 'number' ? Buffer.from([options.terminator]) : TERMINATORS[options.terminator];
    // UTF-8 can take 4 bytes a character; the text check counts characters.
    this.maxLineBytes = 4 * (QR_MAX_CHARS + options.prefix.length + options.suffix.length) + 2;
  }

  async start(listener: (event: CodeScannerEvent) => void): Promise<void> {
    this.listener = listener;
    this.running = true;
    await this.open();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reopenTimer);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.listener = undefined;
  }

  private describePort(): string {
    const { path, baudRate } = this.options;
    return `${path} at ${baudRate} 8N1`;
  }

  private async open(): Promise<void> {
    let SerialPortClass: typeof SerialPort;
    try {
      ({ SerialPort: SerialPortClass } = await import('serialport'));
    } catch (error) {
      this.setHealth(false, `the serialport module cannot be loaded: ${(error as Error).message}`);
      return;
    }
    if (!this.running) return;
    const port = new SerialPortClass({ path: this.options.path, baudRate: this.options.baudRate, dataBits: 8, stopBits: 1, parity: 'none', autoOpen: false });
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
    this.backoffMs = this.options.reopenMinMs;
    port.on('data', (chunk: Buffer) => this.receive(chunk));
    port.on('error', (err: Error) => this.lost(port, `error on ${this.describePort()}: ${err.message}`));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      this.lost(port, err?.disconnected ? `${this.options.path} was unplugged` : `${this.options.path} was closed`);
    });
    this.setHealth(true, `listening on ${this.describePort()}`);
  }

  private lost(port: SerialPort, why: string): void {
    if (!this.running || this.port !== port) return;
    this.port = undefined;
    if (port.isOpen) port.close();
    this.retry(why);
  }

  private retry(why: string): void {
    this.setHealth(false, `${why}; reopening in ${this.backoffMs} ms`);
    this.reopenTimer = setTimeout(() => void this.open(), this.backoffMs);
    this.backoffMs = Math.min(this.options.reopenMaxMs, this.backoffMs * 2);
  }

  private receive(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const end = this.pending.indexOf(this.terminator);
      if (end < 0) break;
      const line = this.pending.subarray(0, end);
      this.pending = this.pending.subarray(end + this.terminator.length);
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      this.handleLine(line);
    }
    if (this.pending.length > this.maxLineBytes) {
      this.garbage(`more than ${this.maxLineBytes} bytes without a terminator`);
      this.pending = Buffer.alloc(0);
      this.discarding = true;
    }
  }

  private handleLine(line: Buffer): void {
    const parsed = parseScannedLine(line, this.options);
    if (parsed.kind === 'blank') return;
    if (parsed.kind === 'garbage') {
      this.garbage(parsed.reason);
      return;
    }
    this.setHealth(true, `listening on ${this.describePort()}`);
    this.listener?.({ type: 'code', text: parsed.text });
  }

  private garbage(reason: string): void {
    const terminator = typeof this.options.terminator === 'number' ? `byte ${this.options.terminator}` : this.options.terminator.toUpperCase();
    this.setHealth(false, `discarded ${reason} from ${this.describePort()}: check the module's baud rate, terminator (${terminator}) and prefix/suffix`);
  }

  private setHealth(healthy: boolean, detail: string): void {
    if (healthy === this.healthy && detail === this.lastDetail) return;
    this.healthy = healthy;
    this.lastDetail = detail;
    this.listener?.({ type: 'health', healthy, detail });
  }
}
