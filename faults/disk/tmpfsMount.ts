import { mkdirSync } from 'node:fs';
import { run, unmount } from './mountCommands.js';

/**
 * A small real tmpfs: a state directory whose free space the harness can
 * take away byte for byte. Read-only only while nothing has a file open for
 * writing (the kernel refuses with EBUSY otherwise), so that is used for a
 * gate starting on a read-only mount, not for one already running.
 */
export class TmpfsMount {
  private constructor(readonly dir: string) {}

  static mount(dir: string, sizeMb: number): TmpfsMount {
    mkdirSync(dir, { recursive: true });
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir]);
    return new TmpfsMount(dir);
  }

  readOnly(): void {
    run('mount', ['-o', 'remount,ro', this.dir]);
  }

  writable(): void {
    run('mount', ['-o', 'remount,rw', this.dir]);
  }

  unmount(): void {
    unmount(this.dir);
  }
}
