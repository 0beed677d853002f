import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from './clock.js';

/**
 * The board's own clock. Whether wall time is trusted is told by the caller
 * (the RTC and NTP drivers know; a plain clock does not).
 */
export class SystemClock implements Clock {
  constructor(private readonly isTrusted: () => boolean = () => true) {}

  now(): number {
    return Date.now();
  }

  monotonic(): number {
    return performance.now();
  }

  trusted(): boolean {
    return this.isTrusted();
  }

  setTimer(ms: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(timer) };
  }
}
