import { closeSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Chunk sizes tried in turn: large to fill fast, down to one byte so that no free byte is left. */
const CHUNKS = [1 << 20, 64 << 10, 4 << 10, 512, 1];

/** A file that takes every free byte of a file system until removed. */
export class DiskFiller {
  private constructor(
    readonly path: string,
    readonly bytes: number,
  ) {}

  static fill(dir: string): DiskFiller {
    const path = join(dir, 'filler');
    const fd = openSync(path, 'w');
    let bytes = 0;
    try {
      for (const size of CHUNKS) {
        const chunk = Buffer.alloc(size, 0xa5);
        for (;;) {
          let written: number;
          try {
            written = writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw error;
          }
          bytes += written;
          if (written < size) break;
        }
      }
    } finally {
      closeSync(fd);
    }
    const free = statfsSync(dir).bavail;
    if (free !== 0) throw new Error(`the filler left ${free} blocks free in ${dir}`);
    return new DiskFiller(path, bytes);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
