import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/**
 * The name of the account with `uid`, from /etc/passwd (where Debian keeps
 * system users such as citygate); `uid N` when it has none there.
 */
export function accountName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id !== undefined && Number(id) === uid && id.trim() !== '') return name;
    }
  } catch {
    // No /etc/passwd to read (a sandbox hiding it): the number still names the account.
  }
  return `uid ${uid}`;
}

/** The account this process writes as (its effective user). */
export function ownAccount(): string {
  const uid = process.geteuid?.();
  if (uid === undefined) return userInfo().username;
  return accountName(uid);
}
