import { readFileSync } from 'node:fs';
import { InputError } from '../../src/app/settingsSchema.js';
import { CTI_PREFIX } from '../../src/core/denyList.js';

/** The longest entry a gate accepts (src/core/sync/denyListMessage.ts). */
const MAX_ENTRY = 256;
const CTI_ENTRY = /^cti:[0-9a-f]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A deny-list entry as the gates read it: a subject (card number, account id)
 * or a code id `cti:<lower-case hex>`. Returns the reason it is not one, or undefined.
 */
export function entryProblem(entry: string): string | undefined {
  if (entry.length === 0) return 'empty entry';
  if (entry.length > MAX_ENTRY) return `longer than ${MAX_ENTRY} characters`;
  if (CONTROL.test(entry)) return 'contains a control character';
  if (entry !== entry.trim()) return 'has leading or trailing spaces';
  if (entry.startsWith(CTI_PREFIX) && !CTI_ENTRY.test(entry)) {
    const lower = entry.toLowerCase();
    return CTI_ENTRY.test(lower) ? `cti hex must be lower-case (${lower})` : 'a cti entry is cti:<lower-case hex>';
  }
  return undefined;
}

export function checkEntries(entries: readonly string[], source: string): string[] {
  for (const entry of entries) {
    const problem = entryProblem(entry);
    if (problem) throw new InputError(`${source} ${JSON.stringify(entry)}: ${problem}`);
  }
  return [...entries];
}

/** The first cell of a CSV line (RFC 4180 quoting), or undefined when the quoting is broken. */
function firstCell(line: string): string | undefined {
  if (!line.startsWith('"')) {
    const comma = line.indexOf(',');
    return (comma < 0 ? line : line.slice(0, comma)).trim();
  }
  let cell = '';
  for (let i = 1; i < line.length; i++) {
    const char = line[i]!;
    if (char !== '"') {
      cell += char;
    } else if (line[i + 1] === '"') {
      cell += '"';
      i++;
    } else {
      const rest = line.slice(i + 1).trimStart();
      return rest === '' || rest.startsWith(',') ? cell : undefined;
    }
  }
  return undefined;
}

/**
 * The entries in the first column of a CSV file, one per line. A first line
 * whose first cell is `subject` (any case) is a header; blank lines are skipped.
 * Errors name the file and line.
 */
export function readEntriesCsv(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const entries: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const cell = firstCell(line);
    const where = `${path}:${index + 1}`;
    if (cell === undefined) throw new InputError(`${where}: unbalanced quotes in ${JSON.stringify(line)}`);
    if (index === 0 && cell.toLowerCase() === 'subject') return;
    const problem = entryProblem(cell);
    if (problem) throw new InputError(`${where}: ${JSON.stringify(cell)}: ${problem}`);
    entries.push(cell);
  });
  return entries;
}
