import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../src/app/settingsSchema.js';
import type { Owner } from './serviceUser.js';

/*
 * Root provisions files in directories another account may write (the state
 * directory belongs to the service). Nothing here follows a link: a file is
 * made under a fresh name with O_CREAT|O_EXCL|O_NOFOLLOW, given its owner and
 * mode on the open descriptor, and renamed into place, so a link planted at
 * its name is replaced, never written through; a directory is opened with
 * O_NOFOLLOW before its owner or mode is set.
 */

/** Write a secret so that it is never readable by others, not even for a moment, and is whole after a power cut. */
export function writePrivateFile(path: string, text: string, owner?: Owner): void {
  writeWhole(path, text, 0o600, owner);
}

/**
 * Write a file whole (a new file under a fresh name, fsync, rename) with
 * `mode` and, when given, `owner`, replacing whatever had its name: the mode
 * is the one given, whatever the older file had.
 */
export function writeWhole(path: string, text: string, mode = 0o644, owner?: Owner): void {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    throw new InputError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    try {
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      // The mode given to open is cut by the umask: set it on the descriptor.
      fchmodSync(fd, mode);
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Already renamed or gone.
    }
    throw error;
  }
}

/** Open `path` itself, never what a link there points at; refused with the path named if it is a link. */
export function openNoFollow(path: string, flags: number, what = 'file'): number {
  try {
    return openSync(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // O_DIRECTORY|O_NOFOLLOW on a link fails with ENOTDIR, not ELOOP.
    if (code === 'ELOOP' || (code === 'ENOTDIR' && isLink(path))) throw new InputError(`${path} is a symbolic link, not a ${what}: refused (move it aside and run again)`);
    if (code === 'ENOTDIR' && what === 'directory') throw new InputError(`${path} is not a directory: refused (move it aside and run again)`);
    throw new InputError(`cannot open ${path}: ${code ?? (error as Error).message}`);
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Refuse, naming it, the first of `paths` that is a symbolic link (a missing one is fine): root reads the service's state only as it is. */
export function refuseLinks(paths: readonly string[]): void {
  const link = paths.find(isLink);
  if (link !== undefined) throw new InputError(`${link} is a symbolic link: refused, root does not follow links in the service's state directory (move it aside and run again)`);
}

/**
 * Make the directory `path` if it is missing (its parents as the system has
 * them), refuse it if it is a link or not a directory, and give it `mode` and,
 * when given, `owner` on the open directory. An existing directory keeps its
 * mode unless `mode` is to be enforced.
 */
export function makeDirectory(path: string, mode: number, options: { owner?: Owner; enforceMode?: boolean } = {}): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  let made = false;
  try {
    mkdirSync(path, { mode });
    made = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const fd = openNoFollow(path, constants.O_RDONLY | constants.O_DIRECTORY, 'directory');
  try {
    if (!fstatSync(fd).isDirectory()) throw new InputError(`${path} is not a directory: refused`);
    if (options.owner) fchownSync(fd, options.owner.uid, options.owner.gid);
    if (made || options.enforceMode) fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}
