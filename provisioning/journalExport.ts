import { closeSync, existsSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { loadConfig } from '../src/app/config.js';
import { InputError } from '../src/app/settingsSchema.js';
import { Journal } from '../src/core/journal.js';
import { journalPathOf } from './gateFiles.js';
import { journalGate } from './journalOwner.js';
import { asOwner, stateOwner, type Owner } from './serviceUser.js';
import { CSV_HEADER, tapCsvRow, tapJsonLine } from './tapRecord.js';

export interface ExportOptions {
  config?: string;
  /** A journal file without its config, e.g. from a failed unit's SD card. */
  journal?: string;
  since?: string;
  afterSeq?: string;
  undelivered?: boolean;
  format: string;
  out?: string;
}

const FORMATS = ['csv', 'json'] as const;

/**
 * The journal a command works on: the config's, or a file named directly (its
 * gate read from it); and the account to close it as. Root opens a gate's
 * journal as the service, so that the WAL files SQLite makes and removes
 * beside it stay the service's.
 */
export function openJournal(options: { config?: string; journal?: string }, env: NodeJS.ProcessEnv = process.env): { journal: Journal; owner: Owner | undefined } {
  if ((options.config === undefined) === (options.journal === undefined)) throw new InputError('give either --config FILE or --journal FILE');
  if (options.config !== undefined) {
    const config = loadConfig(options.config, env);
    const path = journalPathOf(config.paths.state);
    if (!existsSync(path)) throw new InputError(`no journal at ${path} (paths.state in ${options.config}): this gate has not run yet`);
    const owner = stateOwner(config.paths.state);
    return { journal: asOwner(owner, () => Journal.open(path, config.gate.gateId, config.gate.site ?? '')), owner };
  }
  const gate = journalGate(options.journal!);
  if (gate === undefined) throw new InputError(`no journal at ${options.journal}`);
  return { journal: Journal.open(options.journal!, gate, ''), owner: undefined };
}

function parseSince(since: string | undefined): string {
  if (since === undefined) return '';
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new InputError(`--since: not an ISO-8601 time (got ${JSON.stringify(since)})`);
  return new Date(ms).toISOString();
}

function parseAfterSeq(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d+$/.test(text)) throw new InputError(`--after-seq: a whole number (got ${JSON.stringify(text)})`);
  return Number(text);
}

/** Where the lines go: standard output, or a file that appears whole once every line is on disk. */
function lineSink(out: string | undefined): { write(line: string): void; finish(): void } {
  if (out === undefined) {
    const chunks: string[] = [];
    return { write: (line) => chunks.push(line), finish: () => process.stdout.write(chunks.join('')) };
  }
  const temporary = `${out}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  return {
    write: (line) => writeSync(fd, line),
    finish: () => {
      fsyncSync(fd);
      closeSync(fd);
      renameSync(temporary, out);
    },
  };
}

/** Write the selected taps as JSON lines or CSV; returns how many. */
export function exportTaps(options: ExportOptions): number {
  if (!(FORMATS as readonly string[]).includes(options.format)) throw new InputError(`--format: one of ${FORMATS.join(', ')} (got ${JSON.stringify(options.format)})`);
  const since = parseSince(options.since);
  const afterSeq = parseAfterSeq(options.afterSeq);
  const { journal, owner } = openJournal(options);
  try {
    const from = Math.max(afterSeq, options.undelivered ? journal.deliveredSeq() : 0);
    const sink = lineSink(options.out);
    if (options.format === 'csv') sink.write(`${CSV_HEADER}\r\n`);
    let count = 0;
    for (const tap of journal.eachTap(from, since)) {
      sink.write(options.format === 'csv' ? `${tapCsvRow(tap)}\r\n` : `${tapJsonLine(tap)}\n`);
      count++;
    }
    sink.finish();
    return count;
  } finally {
    asOwner(owner, () => journal.close());
  }
}
