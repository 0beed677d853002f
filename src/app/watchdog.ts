import type { Log } from '../core/log.js';
import type { SystemdNotifier } from './systemdNotify.js';

export type Fitness = { fit: true } | { fit: false; why: string };

/**
 * systemd's watchdog: WATCHDOG=1 at half the interval, but only while the
 * event loop keeps time (a ping late by more than half the interval means the
 * loop was stuck, and a stuck gate serves nobody) and the gate is fit to
 * serve. Missing pings make systemd restart the service.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private unfitSince: string | undefined;

  constructor(
    private readonly notifier: SystemdNotifier,
    private readonly intervalMs: number,
    private readonly fitness: () => Fitness,
    private readonly log: Log,
  ) {}

  start(): void {
    const period = this.intervalMs / 2;
    this.lastTick = performance.now();
    this.timer = setInterval(() => this.tick(period), period);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(period: number): void {
    const now = performance.now();
    const late = now - this.lastTick - period;
    this.lastTick = now;
    if (late > period) {
      this.log.warn({ lateMs: Math.round(late) }, 'event loop was stuck; watchdog ping withheld');
      return;
    }
    const fitness = this.fitness();
    if (!fitness.fit) {
      if (this.unfitSince !== fitness.why) this.log.error({ why: fitness.why }, 'gate unfit to serve; watchdog pings withheld so systemd restarts it');
      this.unfitSince = fitness.why;
      return;
    }
    this.unfitSince = undefined;
    this.notifier.send('WATCHDOG=1');
  }
}
