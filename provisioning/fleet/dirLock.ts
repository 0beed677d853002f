import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/app/settingsSchema.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Run `work` holding `DIR/<name>.lock` (created exclusively, holding this
 * process's pid), for a command whose change is not one SQLite transaction:
 * `fleet revoke` reads the list held in `revocations.json` before it signs
 * the next one, so two at once would lose one's change. A lock left by a
 * process that is gone is taken over; a live holder is waited for up to
 * `waitMs`, then the command stops with a message naming it.
 */
export async function withDirLock<T>(dir: string, name: string, work: () => Promise<T>, waitMs = 30_000): Promise<T> {
  const path = join(dir, `${name}.lock`);
  const deadline = Date.now() + waitMs;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return work();
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && !alive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new InputError(`another "citygate fleet ${name}" (pid ${holder || 'unknown'}) is running on ${dir}; try again when it is done (or remove ${path} if no such process runs)`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    try {
      return await work();
    } finally {
      rmSync(path, { force: true });
    }
  }
}
