import type { Log } from '../src/core/log.js';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A log that keeps its lines, so that a test or a fault harness can see what a gate did and wait for it. */
export class RecordingLog implements Log {
  readonly lines: LogLine[] = [];

  info(fields: object, message: string): void {
    this.lines.push({ level: 'info', fields: fields as Record<string, unknown>, message });
  }

  warn(fields: object, message: string): void {
    this.lines.push({ level: 'warn', fields: fields as Record<string, unknown>, message });
  }

  error(fields: object, message: string): void {
    this.lines.push({ level: 'error', fields: fields as Record<string, unknown>, message });
  }

  /** Whether a line has this message and, where given, these field values. */
  has(message: string, fields: Record<string, unknown> = {}): boolean {
    return this.lines.some((line) => line.message === message && Object.entries(fields).every(([k, v]) => JSON.stringify(line.fields[k]) === JSON.stringify(v)));
  }

  count(message: string): number {
    return this.lines.filter((line) => line.message === message).length;
  }

  /** Lines whose message is one of `messages`, in order. */
  matching(messages: readonly string[]): LogLine[] {
    return this.lines.filter((line) => messages.includes(line.message));
  }
}
