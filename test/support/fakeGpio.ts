import type { GpioLine, Level, LineOpener, LineRequest } from '../../hal/gpio/gpioLine.js';

export type GpioOp = { sysfs: number; op: 'export'; direction: string } | { sysfs: number; op: 'write'; level: Level; at: number } | { sysfs: number; op: 'unexport' };

/** An onoff `Gpio` stand-in: records every export, write and unexport, and lets a test drive inputs. */
export class FakeGpioLine implements GpioLine {
  level: Level;
  exported = true;
  failWrites: NodeJS.ErrnoException | undefined;
  private watchers: ((error: Error | null | undefined, level: Level) => void)[] = [];

  constructor(
    readonly request: LineRequest,
    private readonly log: GpioOp[],
    private readonly now: () => number,
  ) {
    this.level = request.direction === 'high' ? 1 : 0;
  }

  async read(): Promise<Level> {
    return this.level;
  }

  async write(level: Level): Promise<void> {
    if (this.failWrites) throw this.failWrites;
    this.level = level;
    this.log.push({ sysfs: this.request.sysfs, op: 'write', level, at: this.now() });
  }

  watch(callback: (error: Error | null | undefined, level: Level) => void): void {
    this.watchers.push(callback);
  }

  unexport(): void {
    this.exported = false;
    this.watchers = [];
    this.log.push({ sysfs: this.request.sysfs, op: 'unexport' });
  }

  /** The input settles at `level` (as onoff reports after its debounce; repeats are possible). */
  drive(level: Level): void {
    this.level = level;
    for (const watcher of this.watchers) watcher(null, level);
  }

  fail(error: Error): void {
    for (const watcher of this.watchers) watcher(error, this.level);
  }
}

export class FakeGpio {
  /** `now` stamps writes, for tests of timing (tones, pulses). */
  constructor(private readonly now: () => number = () => 0) {}

  readonly log: GpioOp[] = [];
  readonly lines = new Map<number, FakeGpioLine>();
  /** Export fails with this errno for these sysfs numbers. */
  readonly refuse = new Map<number, string>();

  readonly open: LineOpener = async (request) => {
    const code = this.refuse.get(request.sysfs);
    if (code) throw Object.assign(new Error(`${code}: export`), { code, path: '/sys/class/gpio/export' });
    const line = new FakeGpioLine(request, this.log, this.now);
    this.lines.set(request.sysfs, line);
    this.log.push({ sysfs: request.sysfs, op: 'export', direction: request.direction });
    return line;
  };

  line(sysfs: number): FakeGpioLine {
    const line = this.lines.get(sysfs);
    if (!line) throw new Error(`sysfs ${sysfs} was never exported`);
    return line;
  }

  writes(sysfs: number): Level[] {
    return this.timeline(sysfs).map(([, level]) => level);
  }

  /** [time, level] of each write to one pin. */
  timeline(sysfs: number): [number, Level][] {
    return this.log.flatMap((op) => (op.sysfs === sysfs && op.op === 'write' ? [[op.at, op.level] as [number, Level]] : []));
  }
}
