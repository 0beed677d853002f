import { chmodSync, closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/** Write a secret so that it is never readable by others, not even for a moment, and is whole after a power cut. */
export function writePrivateFile(path: string, text: string): void {
  writeWhole(path, text, 0o600);
}

/** Write a file whole (temporary file, fsync, rename) with `mode`, replacing any older one. */
export function writeWhole(path: string, text: string, mode = 0o644): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w', mode);
  try {
    // The mode given to open only applies to a file it creates.
    chmodSync(temporary, mode);
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
