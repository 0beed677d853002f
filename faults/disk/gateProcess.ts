import { DaemonProcess } from '../daemonProcess.js';
import { GateLog } from './gateLog.js';

/** `citygate run --config FILE` as a child process (faults/daemonProcess.ts), its stdout read into a GateLog. */
export class GateProcess extends GateLog {
  readonly exited: Promise<number | null>;
  private readonly daemon: DaemonProcess;

  constructor(bin: string, config: string) {
    super();
    this.daemon = new DaemonProcess(bin, config);
    this.daemon.onLine((line) => this.add(line));
    this.exited = this.daemon.closed.then((exit) => exit.code);
  }

  get stderr(): string {
    return this.daemon.stderr;
  }

  alive(): boolean {
    return this.daemon.alive();
  }

  exitCode(): number | null {
    return this.daemon.exitCode();
  }

  scan(text: string): void {
    this.daemon.scan(text);
  }

  stop(graceMs = 10_000): Promise<number | null> {
    return this.daemon.stop(graceMs);
  }

  kill(): void {
    this.daemon.kill('SIGKILL');
  }
}
