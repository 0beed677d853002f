import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Run a mount tool; its stderr goes into the error, so a failed mount says why. */
export function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || (error as Error).message}`);
  }
}

/** Mount points are octal-escaped in /proc/self/mounts; temp dirs have no spaces, so a plain compare does. */
function isMounted(dir: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === dir);
}

/** Unmount, lazily if something still holds it (a gate killed a moment ago), so the temp dir can go. */
export function unmount(dir: string): void {
  if (!isMounted(dir)) return;
  try {
    run('umount', [dir]);
  } catch {
    run('umount', ['-l', dir]);
  }
}
