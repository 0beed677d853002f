import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/app/config.js';
import { describeIssues, InputError } from '../src/app/settingsSchema.js';
import { Journal, JournalError } from '../src/core/journal.js';
import type { Tap } from '../src/core/tap.js';
import { journalPathOf } from './gateFiles.js';
import { asOwner, ownerOf } from './serviceUser.js';
import { refuseLinks } from './privateFile.js';
import { CSV_HEADER, tapRecordSchema } from './tapRecord.js';

export interface ImportOptions {
  config: string;
  from: string;
}

/** The taps of an export in JSON lines (`journal export --format json`), each checked field by field. */
export function readTapLines(path: string): Tap[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (text.startsWith(CSV_HEADER)) throw new InputError(`${path} is a CSV export: import reads JSON lines (journal export --format json)`);
  const taps: Tap[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path} line ${i + 1}`;
    let document: unknown;
    try {
      document = JSON.parse(line);
    } catch (error) {
      throw new InputError(`${where}: not JSON: ${(error as Error).message}`);
    }
    const parsed = tapRecordSchema.safeParse(document);
    if (!parsed.success) throw new InputError(describeIssues(where, parsed.error, document));
    taps.push(parsed.data);
  });
  return taps;
}

/**
 * Bring a failed unit's taps into its replacement, which took over its gate id
 * at provisioning (docs/field-ops.md): the taps keep their id and seq, so the
 * fleet receives each exactly once, in the seq it expects next.
 */
export function importTaps(options: ImportOptions): { added: number; held: number; upTo: number; backlog: number } {
  const config = loadConfig(options.config);
  const taps = readTapLines(options.from);
  if (taps.length === 0) throw new InputError(`${options.from} holds no taps`);
  const gateId = config.gate.gateId;
  const foreign = taps.find((tap) => tap.gate !== gateId);
  if (foreign) {
    throw new InputError(
      `${options.from} holds taps of gate ${foreign.gate}, and this unit is gate ${gateId}: a replacement takes over the failed unit's identity; provision it with --gate-id ${foreign.gate} --force, then import`,
    );
  }
  const path = journalPathOf(config.paths.state);
  // The state directory is the service's: root works in it as the service, so
  // that a link planted there leads nowhere the service could not go itself,
  // and the journal it makes is the service's.
  return asOwner(ownerOf(config.paths.state), () => {
    // A journal file (or its WAL, shared memory or rollback journal) that is a link is refused, named.
    refuseLinks([path, `${path}-wal`, `${path}-shm`, `${path}-journal`]);
    let journal: Journal;
    try {
      journal = Journal.open(path, gateId, config.gate.site ?? '');
    } catch (error) {
      // Its message names the journal (a file the service cannot open is not root's to open either).
      if (error instanceof JournalError) throw new InputError(error.message);
      throw error;
    }
    try {
      const { added, held } = journal.adoptTaps(taps);
      return { added, held, upTo: journal.lastTapSeq(), backlog: journal.backlog() };
    } catch (error) {
      if (error instanceof JournalError) throw new InputError(`cannot import ${options.from}: ${error.message}`);
      throw error;
    } finally {
      journal.close();
    }
  });
}
