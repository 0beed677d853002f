import { accessSync, constants, existsSync, lstatSync, readdirSync, statfsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { accountName, ownAccount } from './accountName.js';
import { InputError } from './settingsSchema.js';

/**
 * What is wrong with the disk under the state directory, in words a
 * technician can act on; undefined if nothing is seen. SQLite says only
 * "disk I/O error" or "attempt to write a readonly database", and a recursive
 * mkdir on a read-only card says ENOENT.
 */
export function stateDiskProblem(dir: string): string | undefined {
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    accessSync(existing, constants.W_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EROFS') return `${existing} is on a read-only file system (EROFS): check the card (dmesg), repair it (fsck) and mount it read-write`;
  }
  if (statfsSync(existing).bavail === 0) return `no space left on the device of ${existing} (ENOSPC): free space there`;
  return stateAccessProblem(existing, dir);
}

function whatIs(path: string, dir: string): string {
  if (path === dir) return 'state directory';
  if (!path.startsWith(`${dir}/`)) return 'directory';
  const name = basename(path);
  if (name.startsWith('journal.db')) return 'journal';
  if (dirname(path) !== dir || name === 'denylist') return 'deny-list store';
  if (name === 'trust.json') return 'trust list';
  return 'file';
}

function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir).map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/**
 * The first thing in the state directory (the directory, its files, those of
 * its deny-list store) that this process may not write, named with its owner
 * and the command that mends it: a root-run tool that left a file owned by
 * root stops the service's account with SQLite's "attempt to write a readonly
 * database" and nothing more.
 */
export function stateAccessProblem(path: string, dir = path): string | undefined {
  // `path` is `dir` itself, or its nearest existing parent when `dir` is missing.
  const candidates = path === dir ? [dir, ...entriesOf(dir), ...entriesOf(join(dir, 'denylist'))] : [path];
  for (const candidate of candidates) {
    let stat;
    try {
      stat = lstatSync(candidate);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) continue;
    try {
      accessSync(candidate, stat.isDirectory() ? constants.W_OK | constants.X_OK : constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') continue;
      const me = ownAccount();
      const mode = (stat.mode & 0o7777).toString(8).padStart(4, '0');
      const what = `${whatIs(candidate, dir)} ${candidate}`;
      if (stat.uid === process.geteuid?.()) return `${what} is read-only (mode ${mode}): make it writable (sudo chmod u+w ${candidate})`;
      const owner = accountName(stat.uid);
      if (path !== dir) return `${what} (owned by ${owner}, mode ${mode}) does not let user ${me} make or reach ${dir}: provision the gate (citygate provision), which makes ${dir} the service's`;
      return `${what} is read-only for user ${me} (owned by ${owner}, mode ${mode}): chown it to ${me} (sudo chown -R ${me}: ${dir})`;
    }
  }
  return undefined;
}

/** Open what lives in the state directory; a failure says what is wrong with the disk, as an error the CLI prints in one line. */
export function openOnStateDisk<T>(dir: string, open: () => T): T {
  try {
    return open();
  } catch (error) {
    const problem = stateDiskProblem(dir);
    throw new InputError(problem ? `${(error as Error).message}: ${problem}` : (error as Error).message);
  }
}
