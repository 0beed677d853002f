import { performance } from 'node:perf_hooks';
import type { Log } from '../../src/core/log.js';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
  /** performance.now() when it was logged. */
  atMs: number;
}

/**
 * A log that keeps its lines, so a harness can count what the gate said
 * (connects, resends, deny-list updates). Per-tap refusal lines are only
 * counted: a day of traffic would otherwise fill memory with them.
 */
export class RecordingLog implements Log {
  readonly lines: LogLine[] = [];
  private readonly counts = new Map<string, number>();

  constructor(private readonly countOnly: readonly string[] = ['refused']) {}

  info(fields: object, message: string): void {
    this.keep('info', fields, message);
  }
  warn(fields: object, message: string): void {
    this.keep('warn', fields, message);
  }
  error(fields: object, message: string): void {
    this.keep('error', fields, message);
  }

  /** Lines with this message whose fields include `fields` (compared as JSON). */
  count(message: string, fields: Record<string, unknown> = {}): number {
    if (Object.keys(fields).length === 0) return this.counts.get(message) ?? 0;
    return this.lines.filter((line) => line.message === message && Object.entries(fields).every(([k, v]) => JSON.stringify(line.fields[k]) === JSON.stringify(v))).length;
  }

  /** When the `n`-th line (1-based) with this message was logged. */
  timeOf(message: string, n: number): number | undefined {
    return this.lines.filter((line) => line.message === message)[n - 1]?.atMs;
  }

  private keep(level: LogLine['level'], fields: object, message: string): void {
    this.counts.set(message, (this.counts.get(message) ?? 0) + 1);
    if (!this.countOnly.includes(message)) this.lines.push({ level, fields: fields as Record<string, unknown>, message, atMs: performance.now() });
  }
}
