import { z } from 'zod';
import type { CodeScanner, CodeScannerEvent } from './codeScanner.js';
import { serialLineOptions, SerialLines, type LineEnd } from './serialLines.js';
import { HealthReport } from './healthReport.js';
import { parseHexLine, parseRawFrame, QR_MAX_BYTES, type ScannedPayload } from './scannedPayload.js';

/** The most characters a QR symbol holds (version 40-L, alphanumeric mode). */
export const QR_MAX_CHARS = 4296;

export const serialScannerOptionsSchema = z.strictObject({
  ...serialLineOptions,
  /** End of each code: `cr` (most scan modules' default), `lf`, `crlf`, or one byte value. */
  terminator: z.union([z.enum(['cr', 'lf', 'crlf']), z.number().int().min(0).max(255)]).default('cr'),
  /** Text the module puts before / after each code (an AIM identifier such as `]Q1`, a custom tag); removed. */
  prefix: z.string().default(''),
  suffix: z.string().default(''),
  /**
   * What the module sends for a code: its `text` (CG1 codes), the payload as a
   * line of `hex` digits, or the payload's `raw` bytes (no terminator: a code
   * ends when the line is quiet for `frameGapMs`). Binary codes (the national
   * transport QR code) need `hex` or `raw`; text codes pass either way.
   * `hex` is the sturdier: its lines end with the terminator, while a pause
   * ends a raw code, and a gate busy for longer than the pause (a slow
   * commit) could see one code as two.
   */
  output: z.enum(['text', 'hex', 'raw']).default('text'),
  frameGapMs: z.number().int().min(5).max(1000).default(100),
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
 * sends each as a line of text ended by its terminator, or (hex and raw
 * output) passes each payload's bytes on as a `binary` event. The port comes
 * and goes with the module (hal/serialLines.ts); health says so, and says
 * when what arrives is not a code.
 */
export class SerialScanner implements CodeScanner {
  private listener: ((event: CodeScannerEvent) => void) | undefined;
  private readonly health = new HealthReport((healthy, detail) => this.listener?.({ type: 'health', healthy, detail }));
  private readonly lines: SerialLines;

  constructor(private readonly options: SerialScannerOptions) {
    const terminator = typeof options.terminator === 'number' ? Buffer.from([options.terminator]) : TERMINATORS[options.terminator];
    const lineEnd: LineEnd = options.output === 'raw' ? { idleMs: options.frameGapMs } : terminator;
    // UTF-8 can take 4 bytes a character; the text check counts characters. Hex takes 3 characters a byte at most (spaces).
    const framing = 4 * (options.prefix.length + options.suffix.length) + 2;
    const maxLineBytes = framing + (options.output === 'text' ? 4 * QR_MAX_CHARS : options.output === 'hex' ? 3 * QR_MAX_BYTES : QR_MAX_BYTES);
    this.lines = new SerialLines(
      options,
      maxLineBytes,
      {
        line: (line) => this.handleLine(line),
        port: (state, detail) => this.health.set(state === 'open', detail),
        overflow: () => this.garbage(`more than ${maxLineBytes} bytes without ${options.output === 'raw' ? 'a pause' : 'a terminator'}`),
      },
      lineEnd,
    );
  }

  async start(listener: (event: CodeScannerEvent) => void): Promise<void> {
    this.listener = listener;
    await this.lines.start();
  }

  async stop(): Promise<void> {
    await this.lines.stop();
    this.listener = undefined;
  }

  private handleLine(line: Buffer): void {
    const { output } = this.options;
    const parsed: ScannedLine | ScannedPayload = output === 'text' ? parseScannedLine(line, this.options) : output === 'hex' ? parseHexLine(line, this.options) : parseRawFrame(line, this.options);
    if (parsed.kind === 'blank') return;
    if (parsed.kind === 'garbage') {
      this.garbage(parsed.reason);
      return;
    }
    this.health.set(true, `listening on ${this.lines.describePort()}`);
    this.listener?.(parsed.kind === 'code' ? { type: 'code', text: parsed.text } : { type: 'binary', bytes: parsed.bytes });
  }

  private garbage(reason: string): void {
    const { output, frameGapMs } = this.options;
    const terminator = typeof this.options.terminator === 'number' ? `byte ${this.options.terminator}` : this.options.terminator.toUpperCase();
    const end = output === 'raw' ? `raw output, codes ${frameGapMs} ms apart` : `terminator (${terminator})`;
    this.health.set(false, `discarded ${reason} from ${this.lines.describePort()}: check the module's baud rate, ${end}${output === 'hex' ? ', hex output' : ''} and prefix/suffix`);
  }
}
