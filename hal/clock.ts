/**
 * Wall time, monotonic time and timers. Timers are part of the clock so that a
 * simulated board can run a day of traffic in a second.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall time, milliseconds since the Unix epoch. */
  now(): number;
  /** Monotonic milliseconds, for latencies and timeouts; never jumps. */
  monotonic(): number;
  /** Whether wall time comes from a trusted source (RTC read at start, NTP in sync). */
  trusted(): boolean;
  setTimer(ms: number, callback: () => void): TimerHandle;
}
