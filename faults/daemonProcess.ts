import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { killOnExit } from '../sim/exitReaper.js';
import type { Tap } from '../src/core/tap.js';

/** One line of the daemon's pino JSON log. */
export interface LogLine {
  msg: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const STDERR_KEPT = 20_000;

/**
 * One run of `citygate run --config FILE` as a child process, for the fault
 * harnesses and the daemon tests: codes and lane control lines go in on its
 * stdin (the sim scanner), log lines come out of its stdout. A line the kill
 * cut in half is dropped: it never reached anyone.
 */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly spawnedAtWall = Date.now();
  /** Resolves once the process is gone and its pipes are drained. */
  readonly closed: Promise<Exit>;
  stderr = '';
  /** Complete lines that were not JSON: the log contract is one object per line. */
  unparsed = 0;
  private buffer = '';
  private gone = false;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly listeners = new Set<(line: LogLine) => void>();

  constructor(script: string, configPath: string) {
    this.child = spawn(process.execPath, [script, 'run', '--config', configPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    killOnExit(this.child);
    // EPIPE on a killed gate's stdin: the scan died with the gate, as on a real lane.
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (error) => (this.stderr += `spawn failed: ${error.message}\n`));
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk.toString('utf8')));
    this.child.stderr.on('data', (chunk: Buffer) => {
      if (this.stderr.length < STDERR_KEPT) this.stderr += chunk.toString('utf8');
    });
    this.child.once('exit', () => (this.gone = true));
    this.closed = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  alive(): boolean {
    return !this.gone && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Present one code to the sim scanner; false if the gate is gone. */
  scan(text: string): boolean {
    if (!this.alive() || this.child.stdin.destroyed) return false;
    this.child.stdin.write(`${text}\n`);
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive()) this.child.kill(signal);
  }

  exitCode(): number | null {
    return this.child.exitCode;
  }

  /** SIGTERM, as systemd stops the unit; SIGKILL if it has not gone within `graceMs`. Resolves with the exit code (null if killed). */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.alive()) return (await this.closed).code;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const { code } = await this.closed;
    clearTimeout(timer);
    return code;
  }

  /** Every committed tap the daemon logged, in order. */
  taps(): Tap[] {
    return this.lines.filter((line) => line.msg === 'tap').map((line) => line.tap as Tap);
  }

  /** Present a code and wait for its tap: the next one, as the lane handles one presentation at a time. */
  async tapFor(code: string, timeoutMs = 15_000): Promise<Tap> {
    const before = this.taps().length;
    this.scan(code);
    const line = await this.waitForLine(() => this.taps().length > before, timeoutMs);
    if (!line) throw new Error(`no tap for the code presented within ${timeoutMs} ms (stderr: ${this.stderr})`);
    return this.taps()[before]!;
  }

  has(msg: string): boolean {
    return this.lines.some((line) => line.msg === msg);
  }

  /** Every line from now on; returns the unsubscribe. */
  onLine(listener: (line: LogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first line, already seen or still to come, that matches; undefined on timeout or exit. */
  waitForLine(matches: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine | undefined> {
    const seen = this.lines.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const finish = (line: LogLine | undefined) => {
        clearTimeout(timer);
        unsubscribe();
        resolve(line);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const unsubscribe = this.onLine((line) => {
        if (matches(line)) finish(line);
      });
      void this.closed.then(() => finish(undefined));
    });
  }

  private receive(text: string): void {
    this.buffer += text;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const raw = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        this.unparsed++;
        continue;
      }
      this.lines.push(line);
      for (const listener of this.listeners) listener(line);
    }
  }
}
