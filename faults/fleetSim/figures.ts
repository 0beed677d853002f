/** Figures of the run: percentiles and what the backlog did around each fault. */

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[index]!);
}

export interface BacklogSample {
  /** Seconds since the taps started. */
  t: number;
  backlog: number;
}

export interface FaultRecovery {
  startSec: number;
  endSec: number;
  /** Highest fleet backlog from the fault's start until it was back to normal. */
  max: number;
  /** Seconds from the fault's end until the backlog was back at or below its level before any fault; null: not within the run and its drain. */
  backToNormalSec: number | null;
}

/**
 * The backlog never sits at zero while gates tap (a tap waits for its ack
 * for a round trip, longer while its gate coalesces): "back to zero" is read
 * as back to the highest level of the calm period before the first fault.
 */
export function recoveryAfter(samples: readonly BacklogSample[], normal: number, startSec: number, endSec: number): FaultRecovery {
  let max = 0;
  let backToNormalSec: number | null = null;
  for (const sample of samples) {
    if (sample.t < startSec) continue;
    max = Math.max(max, sample.backlog);
    if (sample.t >= endSec && sample.backlog <= normal) {
      backToNormalSec = Math.round((sample.t - endSec) * 10) / 10;
      break;
    }
  }
  return { startSec: round1(startSec), endSec: round1(endSec), max, backToNormalSec };
}

/** The highest backlog between the warm-up and the first fault: what the fleet carries in calm running. */
export function calmLevel(samples: readonly BacklogSample[], fromSec: number, toSec: number): number {
  let level = 0;
  for (const sample of samples) if (sample.t >= fromSec && sample.t < toSec) level = Math.max(level, sample.backlog);
  return level;
}

/** At most `points` samples, evenly picked, for the printed series. */
export function thin<T>(items: readonly T[], points: number): T[] {
  if (items.length <= points) return [...items];
  const step = items.length / points;
  return Array.from({ length: points }, (_, i) => items[Math.floor(i * step)]!);
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
