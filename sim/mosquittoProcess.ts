import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { killOnExit, tempDirRemovedOnExit } from './exitReaper.js';

/** A free TCP port on 127.0.0.1, as the kernel hands it out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** PEM files for a TLS listener that requires client certificates signed by `ca`. */
export interface BrokerTls {
  ca: string;
  cert: string;
  key: string;
  /** A mosquitto ACL file; its users are the clients' certificate CNs (`use_identity_as_username`). */
  acl?: string;
}

/**
 * A private mosquitto on a free loopback port, for a test file or a benchmark. It can be
 * killed and started again on the same port, with or without persistence.
 */
export class Mosquitto {
  private process: ChildProcess | undefined;
  private readonly dir = tempDirRemovedOnExit('citygate-mosquitto-');

  private constructor(
    readonly port: number,
    private readonly persistence: boolean,
    private readonly tls: BrokerTls | undefined,
    private readonly logged: boolean,
  ) {}

  /** `log`: the broker's notices (connects, disconnects, timeouts) go to a file that {@link log} reads. */
  static async start(options: { persistence?: boolean; tls?: BrokerTls; log?: boolean } = {}): Promise<Mosquitto> {
    const broker = new Mosquitto(await freePort(), options.persistence ?? false, options.tls, options.log ?? false);
    await broker.restart();
    return broker;
  }

  get url(): string {
    return `${this.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    if (this.process) await this.kill();
    const config = join(this.dir, 'mosquitto.conf');
    const lines = [`listener ${this.port} 127.0.0.1`, 'allow_anonymous true', `persistence ${this.persistence}`, `persistence_location ${this.dir}/`, ...(this.logged ? [`log_dest file ${this.logFile()}`, 'log_type notice'] : ['log_dest none']), 'max_queued_messages 0', 'max_inflight_messages 0', ...(this.persistence ? ['autosave_interval 1'] : [])];
    // Run as root (CI), mosquitto would drop to its own user, which cannot read this private temp dir.
    if (process.getuid?.() === 0) lines.push('user root');
    // As in the field: TLS, and only clients with a certificate from the fleet's CA get in.
    if (this.tls) lines.push(`cafile ${this.tls.ca}`, `certfile ${this.tls.cert}`, `keyfile ${this.tls.key}`, 'require_certificate true', 'use_identity_as_username true');
    if (this.tls?.acl) lines.push(`acl_file ${this.tls.acl}`);
    writeFileSync(config, `${lines.join('\n')}\n`);
    const child = spawn('/usr/sbin/mosquitto', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.process = child;
    killOnExit(child);
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited ${child.exitCode}: ${stderr}`);
      if (await portOpen(this.port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`mosquitto did not listen on ${this.port}: ${stderr}`);
  }

  /** What the broker has logged so far (started with `log`), empty before its first line. */
  log(): string {
    return existsSync(this.logFile()) ? readFileSync(this.logFile(), 'utf8') : '';
  }

  private logFile(): string {
    return join(this.dir, 'mosquitto.log');
  }

  /** SIGKILL: the broker vanishes as in a power cut. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
