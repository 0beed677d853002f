import type { Log } from '../../src/core/log.js';

/** A log that keeps only how often each message was written, per level: a thousand gates' lines would drown the figures. */
export class CountingLog implements Log {
  readonly counts = new Map<string, number>();

  info(_fields: object, message: string): void {
    this.note('info', message);
  }

  warn(_fields: object, message: string): void {
    this.note('warn', message);
  }

  error(_fields: object, message: string): void {
    this.note('error', message);
  }

  private note(level: string, message: string): void {
    const key = `${level}: ${message}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}

/** Sum several logs' counts. */
export function mergeCounts(into: Map<string, number>, from: Iterable<[string, number]>): void {
  for (const [key, count] of from) into.set(key, (into.get(key) ?? 0) + count);
}
