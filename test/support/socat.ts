import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, constants as fs, writeSync } from 'node:fs';

/**
 * A pseudo-terminal pair from socat standing in for a serial cable: the driver
 * opens `gateSide`, the test writes what the scan module would send into
 * `moduleSide`. Killing socat is unplugging the module; starting it again with
 * the same links is plugging it back in.
 */
export class PtyPair {
  private socat: ChildProcess | undefined;
  private moduleFd: number | undefined;

  constructor(
    readonly gateSide: string,
    readonly moduleSide: string,
  ) {}

  async plug(): Promise<void> {
    const socat = spawn('socat', [`pty,raw,echo=0,link=${this.gateSide}`, `pty,raw,echo=0,link=${this.moduleSide}`], { stdio: 'ignore' });
    this.socat = socat;
    const deadline = Date.now() + 10_000;
    while (!(existsSync(this.gateSide) && existsSync(this.moduleSide))) {
      if (socat.exitCode !== null || Date.now() > deadline) throw new Error(`socat did not create ${this.gateSide} and ${this.moduleSide}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Held open for the pair's life: socat ends when the last opener of a side closes it.
    this.moduleFd = openSync(this.moduleSide, fs.O_RDWR | fs.O_NOCTTY);
  }

  /** Bytes from the scan module to the gate. */
  send(bytes: string | Uint8Array): void {
    writeSync(this.moduleFd!, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  async unplug(): Promise<void> {
    if (this.moduleFd !== undefined) closeSync(this.moduleFd);
    this.moduleFd = undefined;
    const socat = this.socat;
    this.socat = undefined;
    if (!socat || socat.exitCode !== null) return;
    const exited = new Promise((resolve) => socat.once('exit', resolve));
    socat.kill('SIGTERM');
    await exited;
  }
}
