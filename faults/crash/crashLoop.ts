import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Collector } from '../../provisioning/collector/collector.js';
import { forget, tempDirRemovedOnExit } from '../../sim/exitReaper.js';
import { Mosquitto } from '../../sim/mosquittoProcess.js';
import { seededRandom } from '../../sim/seededRandom.js';
import type { Log } from '../../src/core/log.js';
import { CrashedGate } from './crashedGate.js';
import type { DaemonProcess } from '../daemonProcess.js';
import { DenyListPublisher } from './denyListPublisher.js';
import { addGateFigures, emptyFigures, type CrashLoopFigures } from './figures.js';
import { CrashParties } from './fleetKeys.js';
import { addKillFigures } from './killFigures.js';
import type { KillTiming } from './killMoment.js';
import { writeLane } from './laneConfig.js';
import type { FeederPace } from './tapFeeder.js';
import { UploadWatch } from './uploadWatch.js';
import { loadEvidence, verifyGate } from './verifier.js';

export interface CrashLoopOptions {
  /** Gates killed in parallel, each on its own state directory. */
  gates: number;
  /** Kills in total, shared out between the gates. */
  kills: number;
  seed: number;
  timing?: Partial<KillTiming>;
  pace?: FeederPace;
  /** How often fleet ops publishes a new deny-list snapshot. */
  denyListEveryMs?: number;
  /** How long the final clean run may take to get every tap to the collector. */
  drainTimeoutMs?: number;
  /** The built daemon; default: dist/bin/citygate.js of this checkout. */
  daemonScript?: string;
  /** Keep the work directory (journals, collector file, configs) for a post-mortem. */
  keepDir?: boolean;
  onProgress?: (message: string) => void;
}

/**
 * A hole the collector saw for a while (a batch overtaking a resend after a
 * kill) is not a loss: the verifier checks that none is left at the end.
 */
const HARMLESS_COLLECTOR_WARNINGS = new Set(['broker unreachable; reconnecting', 'gap in seq: taps missing; acks stop below it']);

const DEFAULT_TIMING: KillTiming = { startupWindowMs: 700, afterReadyMaxMs: 800, triggerTimeoutMs: 1_500, readyTimeoutMs: 30_000 };

/** dist/bin/citygate.js, whether this module runs from faults/ (vitest) or dist/faults/ (npm run faults). */
function builtDaemon(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, here.includes(`${join('dist', 'faults')}`) ? '../../..' : '../..');
  return join(root, 'dist', 'bin', 'citygate.js');
}

/** The collector's warnings and errors, counted by message (a gap opened, a conflict): for the figures and problems. */
class CountingLog implements Log {
  readonly counts = new Map<string, number>();
  info(): void {}
  warn(_fields: object, message: string): void {
    this.counts.set(message, (this.counts.get(message) ?? 0) + 1);
  }
  error(_fields: object, message: string): void {
    this.counts.set(message, (this.counts.get(message) ?? 0) + 1);
  }
}

function killsFor(gate: number, options: CrashLoopOptions): number {
  return Math.floor(options.kills / options.gates) + (gate < options.kills % options.gates ? 1 : 0);
}

function runsSoFar(gates: CrashedGate[]): number {
  return gates.reduce((runs, gate) => runs + gate.runs.length, 0);
}

/**
 * The crash loop (issue 7): the real daemon on simulated lanes, fed a stream
 * of codes with the upload running, SIGKILLed at random moments and restarted,
 * then drained and checked against the reference collector and the journals.
 * Never throws for what it finds: it is all in the figures.
 */
export async function runCrashLoop(options: CrashLoopOptions): Promise<CrashLoopFigures> {
  const started = performance.now();
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  const pace = options.pace ?? { minMs: 2, maxMs: 30 };
  const root = tempDirRemovedOnExit('citygate-crash-');
  const daemons = new Set<DaemonProcess>();
  const collectorLog = new CountingLog();
  let broker: Mosquitto | undefined;
  let collector: Collector | undefined;
  let uploads: UploadWatch | undefined;
  let denyList: DenyListPublisher | undefined;
  try {
    broker = await Mosquitto.start();
    const parties = new CrashParties();
    const trustPath = join(root, 'trust.json');
    parties.writeTrustFile(trustPath);
    const collectorDb = join(root, 'collector.db');
    collector = new Collector({ broker: broker.url, db: collectorDb, clientId: 'crash-loop-collector', log: collectorLog });
    await collector.start();
    uploads = await UploadWatch.start(broker.url);
    denyList = await DenyListPublisher.start(broker.url, parties, options.denyListEveryMs ?? 3_000);
    const script = options.daemonScript ?? builtDaemon();
    const gates = Array.from({ length: options.gates }, (_, i) => {
      const lane = writeLane(root, i, broker!.url, trustPath);
      return new CrashedGate({ lane, script, parties, rng: seededRandom(options.seed * 7919 + i), timing, pace, uploads: uploads!, collector: collector!, started: daemons });
    });

    const progress = options.onProgress ? setInterval(() => options.onProgress!(`crash loop: ${runsSoFar(gates)}/${options.kills} kills`), 10_000) : undefined;
    try {
      await Promise.all(gates.map((gate, i) => gate.killLoop(killsFor(i, options))));
    } finally {
      clearInterval(progress);
    }
    await denyList.stop();
    const denyListSnapshots = denyList.published();
    denyList = undefined;
    await Promise.all(gates.map((gate) => gate.drain(options.drainTimeoutMs ?? 60_000)));
    const stats = collector.stats();
    await collector.stop();
    collector = undefined;

    const figures = emptyFigures(options.gates, denyListSnapshots, stats.duplicates, stats.conflicts);
    for (const gate of gates) {
      let evidence;
      try {
        evidence = loadEvidence(gate.gate, gate.lane.journalPath, collectorDb, gate.logged, gate.barriers, gate.ledger.subjects);
      } catch (error) {
        figures.problems.push(`${gate.gate}: cannot read its journal or the collector's file: ${(error as Error).message}`);
        continue;
      }
      addGateFigures(figures, gate, evidence, verifyGate(evidence));
      addKillFigures(figures, gate.runs, evidence.journal);
    }
    for (const [message, count] of collectorLog.counts) {
      figures.collectorWarnings[message] = count;
      if (!HARMLESS_COLLECTOR_WARNINGS.has(message)) figures.problems.push(`collector: ${count} × ${message}`);
    }
    figures.durationMs = Math.round(performance.now() - started);
    return figures;
  } finally {
    for (const daemon of daemons) daemon.kill('SIGKILL');
    await Promise.all([...daemons].map((daemon) => daemon.closed));
    await denyList?.stop().catch(() => undefined);
    await uploads?.stop().catch(() => undefined);
    await collector?.stop().catch(() => undefined);
    await broker?.stop();
    if (!options.keepDir) rmSync(root, { recursive: true, force: true });
    else {
      forget(root);
      options.onProgress?.(`crash loop: work directory kept at ${root}`);
    }
  }
}
