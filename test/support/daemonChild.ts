import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Tap } from '../../src/core/tap.js';
import { waitFor } from './waitFor.js';

export interface DaemonLine {
  msg: string;
  tap?: Tap;
  [key: string]: unknown;
}

/** `citygate run --config` as a child process on the simulated lane: codes and lane controls on stdin, pino JSON on stdout. */
export class DaemonChild {
  readonly lines: DaemonLine[] = [];
  stderr = '';
  private buffer = '';

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      let newline: number;
      while ((newline = this.buffer.indexOf('\n')) >= 0) {
        const text = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        if (text.startsWith('{')) this.lines.push(JSON.parse(text) as DaemonLine);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    child.stdin.on('error', () => undefined);
  }

  static start(config: string): DaemonChild {
    return new DaemonChild(spawn(process.execPath, ['dist/bin/citygate.js', 'run', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** One line on the lane's input: a code's text, or a control line such as `#clock jump -3600000`. */
  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  taps(): Tap[] {
    return this.lines.filter((l) => l.msg === 'tap').map((l) => l.tap!);
  }

  has(msg: string): boolean {
    return this.lines.some((l) => l.msg === msg);
  }

  /** Present a code and wait for its tap: the next one, as the lane handles one presentation at a time. */
  async tapFor(code: string): Promise<Tap> {
    const before = this.taps().length;
    this.send(code);
    await waitFor(() => this.taps().length > before, `a tap for the code presented (stderr: ${this.stderr})`);
    return this.taps()[before]!;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill('SIGTERM');
    return exited;
  }
}
