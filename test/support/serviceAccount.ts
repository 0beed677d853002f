import { execFileSync } from 'node:child_process';

/** A system account made for one test file, as systemd/install.sh makes `citygate`: no home, no login. */
export interface ServiceAccount {
  name: string;
  uid: number;
  gid: number;
  remove(): void;
}

/** Needs root (useradd); the name is the test process's own, so two runs never share an account. */
export function createServiceAccount(): ServiceAccount {
  const name = `cgtest${process.pid}`;
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name], { stdio: 'pipe' });
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return {
    name,
    uid: id('-u'),
    gid: id('-g'),
    remove() {
      execFileSync('userdel', [name], { stdio: 'pipe' });
    },
  };
}
