import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from './settingsSchema.js';

/**
 * What is wrong with the disk under the state directory, in words a
 * technician can act on; undefined if nothing is seen. SQLite says only
 * "disk I/O error", and a recursive mkdir on a read-only card says ENOENT.
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
