import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const PCSCD = '/usr/sbin/pcscd';
const SOCKET_ACTIVATE = '/usr/bin/systemd-socket-activate';
/** vpcd (vsmartcard 0.8, as packaged by Debian) gives each reader.conf entry two slots, on PORT and PORT+1. */
const VPCD_SLOTS = 2;
const START_TIMEOUT_MS = 10_000;
const LOG_KEEP = 64 * 1024;

export interface PcscdOptions {
  /** FRIENDLYNAME of the vpcd reader; the slots are named "<name> 00 00", "<name> 00 01". */
  readerName?: string;
}

/**
 * A private pcscd with the vsmartcard-vpcd driver: its own socket in a temp
 * directory and its own reader.conf, the virtual readers on two free TCP
 * ports. pcscd 1.9 always binds /run/pcscd/pcscd.comm itself, so it is
 * started socket-activated (systemd-socket-activate hands it a listening
 * socket at our path, as systemd would); clients find it through
 * PCSCLITE_CSOCK_NAME. The system's pcscd, if any, is left alone.
 *
 * Needs: pcscd, vsmartcard-vpcd, systemd (for systemd-socket-activate).
 */
export class PcscdProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private partialLine = '';
  private removals = 0;
  private readonly killOnExit = (): void => {
    this.child?.kill('SIGKILL');
  };

  private constructor(
    readonly dir: string,
    readonly basePort: number,
    readonly readerName: string,
  ) {}

  static async start(options: PcscdOptions = {}): Promise<PcscdProcess> {
    const missing = [PCSCD, SOCKET_ACTIVATE, VPCD_DRIVER].filter((path) => !existsSync(path));
    if (missing.length > 0) throw new Error(`cannot start a private pcscd: missing ${missing.join(', ')} (apt-get install pcscd vsmartcard-vpcd systemd)`);
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const daemon = new PcscdProcess(mkdtempSync(join(tmpdir(), 'citygate-pcscd-')), await freePortPair(), options.readerName ?? 'CityGate VPCD');
      try {
        await daemon.launch();
        return daemon;
      } catch (error) {
        lastError = error;
        await daemon.stop();
      }
    }
    throw lastError;
  }

  /** The socket to give libpcsclite (PCSCLITE_CSOCK_NAME). */
  get socketPath(): string {
    return join(this.dir, 'pcscd.comm');
  }

  /** TCP ports of the vpcd slots, where virtual cards connect. */
  get ports(): number[] {
    return Array.from({ length: VPCD_SLOTS }, (_, i) => this.basePort + i);
  }

  /** PC/SC names of the vpcd slots, in the order of `ports`. */
  get readerNames(): string[] {
    return this.ports.map((_, i) => `${this.readerName} 00 ${String(i).padStart(2, '0')}`);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What pcscd logged (the last 64 KiB), for a failing test's message. */
  /**
   * Cards pcscd has seen leave a reader so far. vpcd's card is present while
   * its socket is open, and pcscd polls: a card put back before pcscd saw it
   * go is taken for the same card, unpowered, and its first exchange fails.
   */
  get cardRemovals(): number {
    return this.removals;
  }

  log(): string {
    return this.output;
  }

  /** SIGKILL: pcscd vanishes as in a crash. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Start again on the same socket and ports, as systemd restarting the service. */
  async restart(): Promise<void> {
    await this.signal('SIGTERM');
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    process.off('exit', this.killOnExit);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const late = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(late);
  }

  private async launch(): Promise<void> {
    const config = join(this.dir, 'reader.conf');
    writeFileSync(config, `FRIENDLYNAME "${this.readerName}"\nDEVICENAME /dev/null:${this.basePort}\nLIBPATH ${VPCD_DRIVER}\n`);
    if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
    const env = { ...process.env };
    for (const name of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES', 'PCSCLITE_CSOCK_NAME']) delete env[name];
    const child = spawn(SOCKET_ACTIVATE, ['-l', this.socketPath, PCSCD, '--foreground', '--info', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    process.on('exit', this.killOnExit);
    const append = (chunk: Buffer): void => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-LOG_KEEP);
      const lines = (this.partialLine + text).split('\n');
      this.partialLine = lines.pop()!;
      this.removals += lines.filter((line) => line.includes('Card Removed From')).length;
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    await this.waitFor(child, (log) => log.includes(`Listening on ${this.socketPath}`));
    // systemd-socket-activate execs pcscd on the first connection to the socket.
    await poke(this.socketPath);
    await this.waitFor(child, (log) => log.includes('daemon ready'));
    const unbound = this.ports.filter((port) => !this.output.includes(`Waiting for virtual ICC on port ${port}`));
    if (unbound.length > 0) throw new Error(`pcscd could not open vpcd port(s) ${unbound.join(', ')}:\n${this.output}`);
  }

  private async waitFor(child: ChildProcess, ready: (log: string) => boolean): Promise<void> {
    const until = Date.now() + START_TIMEOUT_MS;
    while (!ready(this.output)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pcscd exited (${child.exitCode ?? child.signalCode}):\n${this.output}`);
      if (Date.now() > until) throw new Error(`pcscd did not start within ${START_TIMEOUT_MS} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function poke(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}

function listenOn(port: number): Promise<{ port: number; close: () => Promise<void> } | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '0.0.0.0', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      resolve({ port: bound, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

/** The first of VPCD_SLOTS consecutive free TCP ports (vpcd binds them on all interfaces). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await listenOn(0);
    if (!first) continue;
    const rest = [];
    for (let i = 1; i < VPCD_SLOTS; i++) rest.push(await listenOn(first.port + i));
    await Promise.all([first, ...rest].map((server) => server?.close()));
    if (rest.every((server) => server !== undefined) && first.port + VPCD_SLOTS <= 65_535) return first.port;
  }
  throw new Error('no run of free TCP ports for the vpcd slots');
}
