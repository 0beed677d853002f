import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { run, unmount } from './mountCommands.js';

/**
 * An SD card as a gate has one: ext4 with `errors=remount-ro` on a loop
 * device over an image file. The kernel's own error path turns it read-only
 * under the running gate, as it does when a worn card reports an error; on
 * this kernel (emergency_ro) no remount makes it writable again, so mending it
 * is what a technician does: stop the gate, unmount, fsck, mount again.
 */
export class Ext4Card {
  private constructor(
    readonly image: string,
    readonly dir: string,
  ) {}

  static create(image: string, dir: string, sizeMb: number): Ext4Card {
    writeFileSync(image, '');
    truncateSync(image, sizeMb * 1024 * 1024);
    run('mkfs.ext4', ['-q', '-F', image]);
    const card = new Ext4Card(image, dir);
    card.mount();
    return card;
  }

  /** The kernel's ext4 error handler, as a failing card would trigger it: read-only at once, open files included. */
  failReadOnly(): void {
    const device = basename(run('findmnt', ['-no', 'SOURCE', this.dir]).trim());
    writeFileSync(`/sys/fs/ext4/${device}/trigger_fs_error`, '1');
  }

  /** Unmount, repair and mount again; the gate must be stopped first. Returns e2fsck's exit status (0 clean, 1 repaired). */
  repair(): number {
    unmount(this.dir);
    const fsck = spawnSync('e2fsck', ['-fy', this.image], { encoding: 'utf8' });
    // 1 means errors were corrected, what a forced error leaves; anything above is a card beyond repair.
    if (fsck.status !== 0 && fsck.status !== 1) throw new Error(`e2fsck ${this.image} exited ${fsck.status}: ${fsck.stdout}${fsck.stderr}`);
    this.mount();
    return fsck.status;
  }

  unmount(): void {
    unmount(this.dir);
  }

  private mount(): void {
    mkdirSync(this.dir, { recursive: true });
    run('mount', ['-o', 'loop,errors=remount-ro', this.image, this.dir]);
  }
}
