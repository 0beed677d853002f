import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GateLog } from './gateLog.js';

/**
 * `citygate run --config FILE` as a child process: codes on its stdin (the
 * sim scanner), its stdout read into a GateLog.
 */
export class GateProcess extends GateLog {
  readonly exited: Promise<number | null>;
  stderr = '';
  private buffer = '';
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(bin: string, config: string) {
    super();
    this.child = spawn(process.execPath, [bin, 'run', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (error) => (this.stderr += `spawn failed: ${error.message}\n`));
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk.toString('utf8')));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  exitCode(): number | null {
    return this.child.exitCode;
  }

  scan(text: string): void {
    this.child.stdin.write(`${text}\n`);
  }

  /** SIGTERM, as systemd stops the unit; SIGKILL if it has not gone within `graceMs`. Resolves with the exit code (null if killed). */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.alive()) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  kill(): void {
    if (this.alive()) this.child.kill('SIGKILL');
  }

  private receive(text: string): void {
    this.buffer += text;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      this.add(this.buffer.slice(0, newline));
      this.buffer = this.buffer.slice(newline + 1);
    }
  }
}
