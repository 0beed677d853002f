import { execFileSync } from 'node:child_process';
import { chownSync } from 'node:fs';
import { InputError } from '../src/app/settingsSchema.js';

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

export function giveTo(owner: Owner | undefined, ...paths: string[]): void {
  if (!owner) return;
  for (const path of paths) chownSync(path, owner.uid, owner.gid);
}
