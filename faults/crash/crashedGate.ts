import type { Collector } from '../../provisioning/collector/collector.js';
import type { Tap } from '../../src/core/tap.js';
import { DaemonProcess } from '../daemonProcess.js';
import type { CrashParties } from './fleetKeys.js';
import { awaitKillMoment, planKill, type KillMoment, type KillTiming } from './killMoment.js';
import type { Lane } from './laneConfig.js';
import { PresentationLedger } from './ledger.js';
import { journalLastSeq } from './stores.js';
import { TapFeeder, type FeederPace } from './tapFeeder.js';
import type { UploadWatch } from './uploadWatch.js';

/** One run of the daemon, as the harness saw it once the run's pipes were drained. */
export interface RunRecord {
  moment: KillMoment | 'drain';
  /** Wall time (ms) of the spawn and of the exit: the journal rows whose `at` falls between are this run's. */
  spawnedAt: number;
  endedAt: number;
  /** 'gate ready' is in the run's log. */
  ready: boolean;
  codesWritten: number;
  tapLines: number;
  /** The collector's contiguous seq for this gate at the moment of the kill. */
  ackedAtKill: number;
}

export interface CrashedGateParts {
  lane: Lane;
  script: string;
  parties: CrashParties;
  rng: () => number;
  timing: KillTiming;
  pace: FeederPace;
  uploads: UploadWatch;
  collector: Collector;
  /** Every daemon started, so that a failing harness can still kill them all. */
  started: Set<DaemonProcess>;
}

const DRAIN_POLL_MS = 50;
const PINO_WARN = 40;
/** error and fatal: 'tap not journaled', a deny-list update not applied, an upload stopped... */
const PINO_ERROR = 50;
const STOP_TIMEOUT_MS = 15_000;

function waitUntil(condition: () => boolean, timeoutMs: number, gone: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    let over = false;
    const deadline = setTimeout(() => (over = true), timeoutMs);
    void gone.then(() => (over = true));
    const poll = () => {
      if (condition()) {
        clearTimeout(deadline);
        resolve(true);
      } else if (over) {
        resolve(false);
      } else {
        setTimeout(poll, DRAIN_POLL_MS);
      }
    };
    poll();
  });
}

/**
 * One gate under the crash loop: started, fed, killed and restarted again
 * and again on the same state directory, then drained by a clean run. Keeps
 * what every run logged about taps, for the verifier.
 */
export class CrashedGate {
  readonly ledger = new PresentationLedger();
  readonly runs: RunRecord[] = [];
  readonly logged: Tap[] = [];
  readonly barriers: { seq: number; id: string }[] = [];
  readonly problems: string[] = [];
  /** Warnings the daemon logged, by message, over all runs. */
  readonly warnings: Record<string, number> = {};
  private readonly subjectCounter = { next: 1 };

  constructor(private readonly parts: CrashedGateParts) {}

  get gate(): string {
    return this.parts.lane.gate;
  }

  get lane(): Lane {
    return this.parts.lane;
  }

  async killLoop(kills: number): Promise<void> {
    for (let i = 0; i < kills; i++) await this.killedRun();
  }

  async killedRun(): Promise<RunRecord> {
    const { lane, parties, rng, timing, pace, uploads } = this.parts;
    const plan = planKill(rng, timing);
    const daemon = this.spawn();
    const feeder = new TapFeeder(daemon, this.ledger, parties, lane.gate, rng, pace, this.subjectCounter);
    const stopObserving = daemon.onLine((line) => this.ledger.observe(line));
    feeder.start();
    const outcome = await awaitKillMoment(daemon, lane.gate, plan, timing, uploads);
    const ackedAtKill = this.ackedUpTo();
    daemon.kill('SIGKILL');
    feeder.stop();
    const exit = await daemon.closed;
    stopObserving();
    const run = this.record(daemon, plan.moment, feeder.written, ackedAtKill);
    this.ledger.afterKilledRun(feeder.shown, daemon.lines.filter((line) => line.msg === 'tap').map((line) => line.tap as Tap));
    if (exit.signal !== 'SIGKILL') this.problems.push(`${lane.gate} run ${this.runs.length}: the daemon exited by itself (code ${exit.code}, signal ${exit.signal}) ${daemon.stderr.slice(-2000)}`);
    if (outcome === 'not-ready') this.problems.push(`${lane.gate} run ${this.runs.length}: not ready ${timing.readyTimeoutMs} ms after a restart ${daemon.stderr.slice(-2000)}`);
    return run;
  }

  /**
   * The last, clean run: no codes, wait until the collector holds every seq
   * of the journal, then SIGTERM, which must end in 'gate stopped' and exit 0.
   */
  async drain(timeoutMs: number): Promise<RunRecord> {
    const { lane, timing } = this.parts;
    const daemon = this.spawn();
    const stopObserving = daemon.onLine((line) => this.ledger.observe(line));
    const connected = await daemon.waitForLine((line) => line.msg === 'connected to the broker', timing.readyTimeoutMs);
    if (!connected) this.problems.push(`${lane.gate} drain: not connected to the broker in ${timing.readyTimeoutMs} ms ${daemon.stderr.slice(-2000)}`);
    const drained = connected !== undefined && (await waitUntil(() => this.ackedUpTo() >= journalLastSeq(lane.journalPath), timeoutMs, daemon.closed));
    if (connected && !drained) this.problems.push(`${lane.gate} drain: collector at seq ${this.ackedUpTo()}, journal at ${journalLastSeq(lane.journalPath)} after ${timeoutMs} ms`);
    const ackedAtStop = this.ackedUpTo();
    daemon.kill('SIGTERM');
    const stopped = await Promise.race([daemon.closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), STOP_TIMEOUT_MS))]);
    if (!stopped) {
      this.problems.push(`${lane.gate} drain: still running ${STOP_TIMEOUT_MS} ms after SIGTERM`);
      daemon.kill('SIGKILL');
    }
    const exit = await daemon.closed;
    stopObserving();
    if (exit.code !== 0 || !daemon.has('gate stopped')) this.problems.push(`${lane.gate} drain: SIGTERM ended in exit ${exit.code} (signal ${exit.signal}), 'gate stopped' ${daemon.has('gate stopped') ? 'logged' : 'missing'} ${daemon.stderr.slice(-2000)}`);
    return this.record(daemon, 'drain', 0, ackedAtStop);
  }

  private spawn(): DaemonProcess {
    const daemon = new DaemonProcess(this.parts.script, this.parts.lane.configPath);
    this.parts.started.add(daemon);
    void daemon.closed.then(() => this.parts.started.delete(daemon));
    return daemon;
  }

  private ackedUpTo(): number {
    return this.parts.collector.gaps().find((progress) => progress.gate === this.gate)?.upTo ?? 0;
  }

  /** Keeps the tap and barrier lines of a finished run; the rest of its log goes with it. */
  private record(daemon: DaemonProcess, moment: RunRecord['moment'], codesWritten: number, ackedAtKill: number): RunRecord {
    let tapLines = 0;
    for (const line of daemon.lines) {
      if (line.msg === 'tap') {
        const tap = line.tap as Tap;
        this.logged.push(tap);
        tapLines++;
      } else if (line.msg === 'barrier opened for tap') {
        this.barriers.push({ seq: line.seq as number, id: line.id as string });
      } else if (typeof line.level === 'number' && line.level >= PINO_ERROR) {
        this.problems.push(`${this.gate} run ${this.runs.length}: the daemon logged an error: ${JSON.stringify(line)}`);
      } else if (line.level === PINO_WARN) {
        this.warnings[line.msg] = (this.warnings[line.msg] ?? 0) + 1;
      }
    }
    if (daemon.unparsed > 0) this.problems.push(`${this.gate} run ${this.runs.length}: ${daemon.unparsed} complete stdout lines were not JSON`);
    const run: RunRecord = {
      moment,
      spawnedAt: daemon.spawnedAtWall,
      endedAt: Date.now(),
      ready: daemon.has('gate ready'),
      codesWritten,
      tapLines,
      ackedAtKill,
    };
    this.runs.push(run);
    return run;
  }
}
