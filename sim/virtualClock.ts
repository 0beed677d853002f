import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../hal/clock.js';

interface Timer {
  at: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * Simulated time: scenarios advance it, timers fire in order as it passes.
 * Between advances it moves with real time, so latencies measured on it are
 * the real processing cost while hours of traffic still run in a second.
 */
export class VirtualClock implements Clock {
  private base = 0;
  private realMark = performance.now();
  private readonly wallOffset: number;
  private isTrusted = true;
  private timers: Timer[] = [];
  private order = 0;

  constructor(startWallMs: number) {
    this.wallOffset = startWallMs;
  }

  monotonic(): number {
    return this.base + (performance.now() - this.realMark);
  }

  now(): number {
    return Math.floor(this.wallOffset + this.monotonic());
  }

  trusted(): boolean {
    return this.isTrusted;
  }

  setTrusted(trusted: boolean): void {
    this.isTrusted = trusted;
  }

  setTimer(ms: number, callback: () => void): TimerHandle {
    const timer: Timer = { at: this.monotonic() + Math.max(0, ms), order: this.order++, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Advance to monotonic time `target`, firing due timers in order. */
  advanceTo(target: number): void {
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      due.cancelled = true;
      this.setBase(due.at);
      due.callback();
    }
    this.setBase(target);
  }

  advance(ms: number): void {
    this.advanceTo(this.monotonic() + ms);
  }

  private setBase(target: number): void {
    this.base = Math.max(target, this.monotonic());
    this.realMark = performance.now();
  }
}
