import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { accountName } from '../src/app/accountName.js';

function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir).map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/**
 * Files in the state directory (and its deny-list store) that another account
 * than the directory's owner, the service, owns: the service may not be able
 * to write them (a journal left by an old root-run tool stops it). One line
 * naming them and the command that mends it; undefined when all are the service's.
 */
export function foreignStateFiles(dir: string): string | undefined {
  let owner: number;
  try {
    owner = lstatSync(dir).uid;
  } catch {
    return undefined;
  }
  const foreign: string[] = [];
  for (const path of [...entriesOf(dir), ...entriesOf(join(dir, 'denylist'))]) {
    try {
      const uid = lstatSync(path).uid;
      if (uid !== owner) foreign.push(`${path} (${accountName(uid)}'s)`);
    } catch {
      // Gone since it was listed (a WAL file at close): nothing to mend.
    }
  }
  if (foreign.length === 0) return undefined;
  const name = accountName(owner);
  return `state files not owned by ${name}, who owns the state directory: ${foreign.join(', ')}; the service may not write them: sudo chown -R ${name}: ${dir}`;
}
