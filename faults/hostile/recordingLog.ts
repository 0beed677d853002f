import type { Log } from '../../src/core/log.js';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A gate log that keeps its lines: how the harness sees that a fleet message was handled, and how. */
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

  /** Lines whose message is one of `messages`, in order. */
  matching(messages: readonly string[]): LogLine[] {
    return this.lines.filter((line) => messages.includes(line.message));
  }
}
