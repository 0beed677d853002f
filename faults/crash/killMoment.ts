import type { DaemonProcess, LogLine } from '../daemonProcess.js';
import type { UploadWatch } from './uploadWatch.js';

/**
 * When a run is killed:
 * - `startup`: a random time after spawn, often before 'gate ready';
 * - `after-ready`: a random time after 'gate ready', with taps streaming;
 * - `on-accept`: the moment the n-th 'barrier opened for tap' line shows, the
 *   upload of that row probably not yet acked;
 * - `on-upload`: the moment the n-th tap batch of this gate passes the broker.
 */
export type KillMoment = 'startup' | 'after-ready' | 'on-accept' | 'on-upload';

export interface KillPlan {
  moment: KillMoment;
  /** For startup: after spawn; for after-ready: after 'gate ready'. */
  delayMs: number;
  /** For on-accept and on-upload. */
  nth: number;
}

export interface KillTiming {
  /** Startup kills fall uniformly in [0, startupWindowMs] after spawn. */
  startupWindowMs: number;
  /** After-ready kills fall uniformly in [0, afterReadyMaxMs] after 'gate ready'. */
  afterReadyMaxMs: number;
  /** A triggered kill that does not trigger in this time after 'gate ready' happens anyway. */
  triggerTimeoutMs: number;
  /** A restart not ready in this time is a failure to start. */
  readyTimeoutMs: number;
}

const MOMENTS: readonly [KillMoment, number][] = [
  ['startup', 0.25],
  ['after-ready', 0.35],
  ['on-accept', 0.2],
  ['on-upload', 0.2],
];

export function planKill(rng: () => number, timing: KillTiming): KillPlan {
  let r = rng();
  let moment: KillMoment = 'after-ready';
  for (const [candidate, weight] of MOMENTS) {
    if (r < weight) {
      moment = candidate;
      break;
    }
    r -= weight;
  }
  const delayMs = rng() * (moment === 'startup' ? timing.startupWindowMs : timing.afterReadyMaxMs);
  return { moment, delayMs, nth: 1 + Math.floor(rng() * (moment === 'on-upload' ? 3 : 8)) };
}

export type MomentOutcome = 'reached' | 'not-ready' | 'exited';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const isReady = (line: LogLine) => line.msg === 'gate ready';

/**
 * Resolves when the planned moment has come (the caller kills at once), when
 * the gate was not ready in time, or when it exited by itself.
 */
export async function awaitKillMoment(daemon: DaemonProcess, gate: string, plan: KillPlan, timing: KillTiming, uploads: UploadWatch): Promise<MomentOutcome> {
  if (plan.moment === 'startup') {
    await Promise.race([sleep(plan.delayMs), daemon.closed]);
    return daemon.alive() ? 'reached' : 'exited';
  }
  // Batches are counted from spawn: a restarted gate resends its backlog right after connecting.
  let batches = 0;
  let onBatch: (() => void) | undefined;
  const stopWatching = uploads.onBatch(gate, () => {
    batches++;
    onBatch?.();
  });
  try {
    const ready = await daemon.waitForLine(isReady, timing.readyTimeoutMs);
    if (!daemon.alive()) return 'exited';
    if (!ready) return 'not-ready';
    if (plan.moment === 'after-ready') {
      await Promise.race([sleep(plan.delayMs), daemon.closed]);
    } else if (plan.moment === 'on-accept') {
      const opened = (line: LogLine) => line.msg === 'barrier opened for tap';
      let seen = 0;
      await daemon.waitForLine((line) => opened(line) && ++seen >= plan.nth, timing.triggerTimeoutMs);
    } else if (batches < plan.nth) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timing.triggerTimeoutMs);
        onBatch = () => {
          if (batches < plan.nth) return;
          clearTimeout(timer);
          resolve();
        };
        void daemon.closed.then(() => resolve());
      });
    }
    return daemon.alive() ? 'reached' : 'exited';
  } finally {
    stopWatching();
  }
}
