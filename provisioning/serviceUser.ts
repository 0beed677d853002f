import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, fchownSync, fstatSync, statSync } from 'node:fs';
import { InputError } from '../src/app/settingsSchema.js';
import { openNoFollow } from './privateFile.js';

/** The account the service runs as (systemd/citygate.service: User=citygate). */
export const SERVICE_USER = 'citygate';

export interface Owner {
  uid: number;
  gid: number;
}

function idOf(user: string, flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
}

/**
 * Who must own the device key and the state the service writes. Only root can
 * give files away; anyone else provisioning (a developer, a test) keeps them.
 */
export function serviceOwner(user: string): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return { uid: idOf(user, '-u'), gid: idOf(user, '-g') };
  } catch {
    throw new InputError(`user ${user} does not exist: run systemd/install.sh first (it creates the ${SERVICE_USER} user), or name the service's user with --user`);
  }
}

/**
 * Give files to `owner`, never through a link: each is opened with O_NOFOLLOW
 * and changed on its descriptor; a link, or anything but a file or directory,
 * is refused with its path.
 */
export function giveTo(owner: Owner | undefined, ...paths: string[]): void {
  if (!owner) return;
  for (const path of paths) {
    const fd = openNoFollow(path, constants.O_RDONLY);
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() && !stat.isDirectory()) throw new InputError(`${path} is neither a file nor a directory: refused`);
      fchownSync(fd, owner.uid, owner.gid);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * The account that owns the directory `dir` (the service, for its state
 * directory) when root runs and it is another account's; undefined otherwise.
 */
export function ownerOf(dir: string): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let stat;
  try {
    stat = statSync(dir);
  } catch (error) {
    throw new InputError(`cannot read the state directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (run "citygate provision" first)`);
  }
  if (!stat.isDirectory()) throw new InputError(`${dir} is not a directory`);
  return stat.uid === 0 ? undefined : { uid: stat.uid, gid: stat.gid };
}

/**
 * As {@link ownerOf} for a state directory that may not be made yet: a
 * directory that does not exist has no owner to act as.
 */
export function stateOwner(dir: string): Owner | undefined {
  if (process.getuid?.() !== 0 || !existsSync(dir)) return undefined;
  return ownerOf(dir);
}

/**
 * Run `work` with the rights of `owner` (effective user, group and groups), and
 * be root again after it. Root touches files of a directory another account
 * owns this way when it cannot open them itself with O_NOFOLLOW (SQLite opens
 * its database through links): whatever that account planted there, the work
 * can do no more than the account itself could.
 */
export function asOwner<T>(owner: Owner | undefined, work: () => T): T {
  if (!owner) return work();
  const groups = process.getgroups!();
  const egid = process.getegid!();
  process.setgroups!([owner.gid]);
  process.setegid!(owner.gid);
  try {
    process.seteuid!(owner.uid);
  } catch (error) {
    process.setegid!(egid);
    process.setgroups!(groups);
    throw error;
  }
  try {
    return work();
  } finally {
    process.seteuid!(0);
    process.setegid!(egid);
    process.setgroups!(groups);
  }
}
