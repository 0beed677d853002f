import { existsSync } from 'node:fs';
import pino from 'pino';
import { InputError } from '../src/app/settingsSchema.js';
import type { Outcome } from '../src/core/gate.js';

/*
 * What every `citygate sim` run prints: taps as JSON lines on stdout, log
 * lines and then the summary, always last, on stderr.
 */

/** The gate's log on stderr, written as it happens: an asynchronous logger's last lines would land after the summary. */
export function simLog(): pino.Logger {
  return pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
}

/** Taps by reason (`ok` for accepted ones), the same in every sim's summary. */
export function countByReason(outcomes: readonly Outcome[]): Record<string, number> {
  const byReason: Record<string, number> = {};
  for (const outcome of outcomes) if (outcome.type === 'tap') byReason[outcome.tap.reason] = (byReason[outcome.tap.reason] ?? 0) + 1;
  return byReason;
}

/**
 * The summary, once every tap line has left: stdout into a slow pipe
 * (`| jq`) is queued, and would otherwise finish after the summary.
 */
export async function writeSummary(summary: Record<string, unknown>): Promise<void> {
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.stderr.write(`${JSON.stringify({ summary })}\n`);
}

/**
 * The `--journal` file: a new one, or with `append` an existing one continued
 * (its earlier taps stay, this run's follow them), said on stderr. An existing
 * file without `append` is refused, so that a run is never silently mixed
 * into an older one.
 */
export function simJournal(path: string, append: boolean): string {
  if (!existsSync(path)) return path;
  if (!append) throw new InputError(`--journal ${path} exists: this run would add its taps after the ones already there; pass --append to continue it, or name a new file`);
  process.stderr.write(`sim: continuing the existing journal ${path} (--append)\n`);
  return path;
}
