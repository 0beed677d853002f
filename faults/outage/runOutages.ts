import { performance } from 'node:perf_hooks';
import { runBrokerRestart, type BrokerRestartFigures } from './brokerRestart.js';
import { runDayOffline, type DayOfflineFigures } from './dayOffline.js';
import { runFlapping, type FlappingFigures } from './flapping.js';

export interface OutageOptions {
  /** Taps of the day the broker is down (over two gates). */
  dayTaps: number;
  /** Network flaps. */
  flaps: number;
  /** Taps committed at once before each broker restart. */
  restartBurst?: number;
  seed?: number;
  /** Slowest reconnect backoff of the gates; absent: the product's default (30 s). */
  maxBackoffMs?: number;
}

/** CI: tens of thousands of taps and a few flaps in about a minute and a half; the backoff is kept short so that the gates come back at once. */
export const OUTAGES_CI: OutageOptions = { dayTaps: 20_000, flaps: 8, restartBurst: 3_000, maxBackoffMs: 2_000 };
/** `npm run faults`: a busy gate's day, a hundred flaps, the product's own backoff. */
export const OUTAGES_LONG: OutageOptions = { dayTaps: 100_000, flaps: 100, restartBurst: 10_000 };

export interface OutageFigures {
  dayOffline: DayOfflineFigures;
  flapping: FlappingFigures;
  restartWithPersistence: BrokerRestartFigures;
  restartWithoutPersistence: BrokerRestartFigures;
  /** Taps journaled and not in the collector's store, over all scenarios: must be 0. */
  lost: number;
  /** Every problem any scenario found, and every decision that was not the planned one: must be empty. */
  problems: string[];
  wallMs: number;
}

/** The three outage scenarios of issue 7, one after the other (they share the machine's two cores). */
export async function runOutages(options: OutageOptions): Promise<OutageFigures> {
  const started = performance.now();
  const seed = options.seed ?? 7;
  const backoff = options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {};
  const dayOffline = await runDayOffline({ taps: options.dayTaps, seed, ...backoff });
  const flapping = await runFlapping({ flaps: options.flaps, seed: seed + 1, ...backoff });
  const restart = { ...(options.restartBurst !== undefined ? { burst: options.restartBurst } : {}), ...backoff };
  const restartWithPersistence = await runBrokerRestart({ persistence: true, seed: seed + 2, ...restart });
  const restartWithoutPersistence = await runBrokerRestart({ persistence: false, seed: seed + 3, ...restart });
  const scenarios = { dayOffline, flapping, restartWithPersistence, restartWithoutPersistence };
  return {
    ...scenarios,
    lost: Object.values(scenarios).reduce((sum, s) => sum + s.lost, 0),
    problems: Object.entries(scenarios).flatMap(([name, s]) => [...s.problems, ...s.wrong].map((p) => `${name}: ${p}`)),
    wallMs: Math.round(performance.now() - started),
  };
}
