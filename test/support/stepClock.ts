import type { Clock, TimerHandle } from '../../hal/clock.js';

/**
 * Timers a test moves by hand. `advance` fires due timers one at a time and lets
 * the promises each one starts settle before looking for the next, so a driver
 * that chains "write, then set the next timer" is followed step by step.
 */
export class StepClock implements Pick<Clock, 'setTimer'> {
  at = 0;
  private timers: { at: number; order: number; callback: () => void; cancelled: boolean }[] = [];
  private order = 0;

  setTimer(ms: number, callback: () => void): TimerHandle {
    const timer = { at: this.at + Math.max(0, ms), order: this.order++, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  async advance(ms: number): Promise<void> {
    const target = this.at + ms;
    for (;;) {
      await settle();
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      due.cancelled = true;
      this.at = due.at;
      due.callback();
    }
    this.at = target;
    await settle();
  }
}

/** Every promise chain already started runs to its end before a macrotask. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
