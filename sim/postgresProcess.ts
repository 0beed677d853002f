import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { killOnExit, tempDirRemovedOnExit } from './exitReaper.js';
import { freePort } from './mosquittoProcess.js';

/** Debian's postgresql: the newest major version installed under /usr/lib/postgresql. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'postgres')));
  if (!bin) throw new Error('PostgreSQL is not installed (Debian package postgresql; scripts/setup.sh)');
  return bin;
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/**
 * A private PostgreSQL cluster in a temp dir, on a free loopback port, its
 * socket in the same dir; trust authentication for the loopback only. It can
 * be stopped and started again with its data (a database outage).
 */
export class Postgres {
  private process: ChildProcess | undefined;
  private readonly dir = tempDirRemovedOnExit('citygate-postgres-');
  private readonly data = join(this.dir, 'data');
  private readonly bin = postgresBin();
  private readonly user = runAs();

  private constructor(readonly port: number) {}

  static async start(): Promise<Postgres> {
    const server = new Postgres(await freePort());
    server.init();
    await server.restart();
    return server;
  }

  /** The superuser's database: tests make their own. */
  get url(): string {
    return `postgres://citygate@127.0.0.1:${this.port}/postgres`;
  }

  /** The URL of database `name` on this server. */
  urlOf(name: string): string {
    return `postgres://citygate@127.0.0.1:${this.port}/${name}`;
  }

  private init(): void {
    if (this.user) chownSync(this.dir, this.user.uid, this.user.gid);
    execFileSync(join(this.bin, 'initdb'), ['-D', this.data, '-U', 'citygate', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...this.user,
    });
  }

  async restart(): Promise<void> {
    if (this.process) await this.stop();
    // fsync off: a test cluster, thrown away; what the collector commits is still committed before it acks.
    const args = ['-D', this.data, '-p', String(this.port), '-h', '127.0.0.1', '-k', this.dir, '-c', 'fsync=off', '-c', 'max_connections=40'];
    const child = spawn(join(this.bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...this.user });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.process = child;
    killOnExit(child);
    for (let i = 0; i < 400; i++) {
      if (child.exitCode !== null) throw new Error(`postgres exited ${child.exitCode}: ${stderr}`);
      if (/database system is ready to accept connections/.test(stderr)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`postgres did not start on ${this.port}: ${stderr}`);
  }

  /** A fast shutdown (SIGINT): clients are disconnected, the data stays for `restart`. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }

  /** Stop the server and remove its directory. */
  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
