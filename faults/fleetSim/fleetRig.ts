import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CollectorCounts } from '../../provisioning/collector/collector.js';
import type { TrustListDocument } from '../../src/core/credentials/trustList.js';
import { Mosquitto } from '../../sim/mosquittoProcess.js';
import { Postgres } from '../../sim/postgresProcess.js';
import { exited, forkChild, nextMessage } from './children.js';
import type { CollectorReport } from './collectorWorker.js';
import { mergeCounts } from './countingLog.js';
import { calmLevel, percentile, recoveryAfter, round1, thin, type BacklogSample } from './figures.js';
import { ISSUER, makeFleet, provisionGateDir, pushDenyList } from './fleetSetup.js';
import { PartUsage } from './partUsage.js';
import { childrenOf, commandOf } from './procStats.js';
import { auditTaps } from './tapAudit.js';
import type { FromWorker, GateFinal, GateSpec, WorkerConfig, WorkerFinal, WorkerTick } from './workerMessages.js';

export interface FleetSimOptions {
  gates: number;
  /** How long the gates tap. */
  minutes: number;
  workers: number;
  /** How long one collector is frozen (SIGSTOP ... SIGCONT). */
  stallSec: number;
  /** Where the gates' journals and deny-list stores go. */
  stateDir: string;
  /** Gates sharing a site: each accepted single-use code goes to the site's other gates (src/core/sync/siteSharing.ts). */
  gatesPerSite: number;
  /** Taps per second of each gate, drawn uniformly from this range per gate. */
  rate: { min: number; max: number };
  /** Mosquitto keeps sessions and retained messages across its restart (docs/fleet-sim.md, "Mosquitto 2.0.11 with persistence"). */
  persistence: boolean;
  /** Progress lines on stderr. */
  say(line: string): void;
  /** Aborted: the run stops at its next wait and tears everything down in order. */
  signal?: AbortSignal;
}

const SHARE_GROUP = 'fleetsim';

interface Collector {
  name: string;
  child: ChildProcess;
  counts: CollectorCounts;
  log: [string, number][];
}

interface Worker {
  name: string;
  child: ChildProcess;
  tick: WorkerTick | undefined;
}

/** Where the journals go by default: tmpfs, so that 1,000 gates' fsyncs measure the sync design rather than this one shared disk. */
export function defaultStateDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/**
 * `npm run fleet-sim` (docs/fleet-sim.md): a fleet of simulated gates on the
 * real sync code against a private mosquitto, two collectors sharing one
 * subscription into a private PostgreSQL; one collector frozen, a deny-list
 * push, a broker restart; then every tap checked in the database. Returns
 * the figures; cleans up on every path.
 */
export async function runFleetSim(options: FleetSimOptions): Promise<Record<string, unknown>> {
  const { say } = options;
  const base = mkdtempSync(join(options.stateDir, 'citygate-fleetsim-'));
  const removeBase = () => rmSync(base, { recursive: true, force: true });
  process.once('exit', removeBase);
  const collectors: Collector[] = [];
  const workers: Worker[] = [];
  let broker: Mosquitto | undefined;
  let postgres: Postgres | undefined;
  try {
    const loadAtStart = loadavg().map(round1);
    postgres = await Postgres.start();
    broker = await Mosquitto.start({ persistence: options.persistence });
    say(`postgres on ${postgres.port}, mosquitto on ${broker.port}, state in ${base}`);
    const fleet = makeFleet(join(base, 'fleet'));
    // The issuer's first list, retained: every gate holds seq 1 once it has subscribed.
    const first = await pushDenyList(fleet, broker.url, ['fleetsim-denied-0'], 1);

    for (let i = 1; i <= 2; i++) collectors.push(await startCollector(`collector${i}`, broker.url, postgres.url));
    const specs = gateSpecs(options.gates, options.gatesPerSite, base, fleet.trust);
    const workerCount = Math.max(1, Math.min(options.workers, options.gates));
    for (let w = 0; w < workerCount; w++) {
      const gates = specs.filter((_, i) => i % workerCount === w);
      const config: WorkerConfig = {
        url: broker.url,
        gates,
        issuer: { id: fleet.issuer.id, kid: Buffer.from(fleet.issuer.kid).toString('base64url'), privateKeyPem: fleet.issuer.key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
        denyIssuer: ISSUER,
        rate: options.rate,
        startSpreadMs: Math.min(20_000, gates.length * 40),
      };
      const path = join(base, `worker${w + 1}.json`);
      writeFileSync(path, JSON.stringify(config));
      const worker: Worker = { name: `gateWorker${w + 1}`, child: forkChild('gateWorker', [path]), tick: undefined };
      worker.child.on('message', (message: FromWorker) => {
        if (message.type === 'tick') worker.tick = message;
      });
      workers.push(worker);
    }
    await Promise.all(workers.map((w) => nextMessage(w.child, (m) => ((m as FromWorker).type === 'started' ? true : undefined), `${w.name} start`, 120_000 + options.gates * 100)));
    if (!(await until(() => workers.every((w) => w.tick !== undefined && w.tick.denySeqMin >= first.seq), 60_000 + options.gates * 60, options.signal)))
      throw new Error(`not every gate connected and took deny-list seq ${first.seq} within the wait`);
    say(`${options.gates} gates in ${workerCount} worker(s) connected and holding deny-list seq ${first.seq}`);

    const usage = new PartUsage();
    const deny: { gate: string; seq: number; at: number }[] = [];
    for (const worker of workers)
      worker.child.on('message', (message: FromWorker) => {
        if (message.type === 'deny') deny.push(message);
      });
    const samples: BacklogSample[] = [];
    const busy = new Map<string, number[]>(workers.map((w) => [w.name, []]));
    const durationSec = options.minutes * 60;
    const t0 = Date.now();
    const at = () => (Date.now() - t0) / 1000;
    const sampler = setInterval(() => {
      samples.push({ t: round1(at()), backlog: workers.reduce((sum, w) => sum + (w.tick?.backlog ?? 0), 0) });
      sampleParts(usage, broker, postgres, collectors, workers);
      for (const w of workers) if (w.tick) busy.get(w.name)!.push(w.tick.busy);
    }, 1000);
    usage.start();
    for (const worker of workers) worker.child.send({ type: 'taps', on: true });
    say(`tapping for ${durationSec} s`);
    try {
      const stallAt = durationSec * 0.25;
      await sleepUntil(t0, stallAt, options.signal);
      const frozen = collectors[0]!;
      const duplicatesAtStall = duplicatesNow(collectors);
      frozen.child.kill('SIGSTOP');
      say(`${frozen.name} frozen at ${round1(at())} s`);
      await sleepUntil(t0, stallAt + options.stallSec, options.signal);
      frozen.child.kill('SIGCONT');
      const stallEnd = at();
      say(`${frozen.name} thawed at ${round1(stallEnd)} s`);

      const pushAt = Math.max(stallEnd + 1, durationSec * 0.5);
      await sleepUntil(t0, pushAt, options.signal);
      const pushStart = Date.now();
      const pushT = at();
      const pushed = pushDenyList(fleet, broker.url, [`fleetsim-denied-1`, `fleetsim-denied-2`], 10);
      const push = await pushed;
      const restartAt = Math.max(at() + 2, durationSec * 0.7);
      say(`deny list seq ${push.seq} pushed at ${round1(pushT)} s; fleet deny exited ${push.status}`);
      await sleepUntil(t0, restartAt, options.signal);
      const restartT = at();
      const duplicatesAtRestart = duplicatesNow(collectors);
      await broker.restart();
      const restartEnd = at();
      say(`broker killed and restarted at ${round1(restartT)} s (${round1(restartEnd - restartT)} s)`);
      await sleepUntil(t0, durationSec, options.signal);
      for (const worker of workers) worker.child.send({ type: 'taps', on: false });
      const tapEnd = at();
      const storedAtTapEnd = collectors.reduce((sum, c) => sum + c.counts.stored, 0);
      say(`taps stopped at ${round1(tapEnd)} s; draining`);
      const drainStart = Date.now();
      const drained = await until(() => workers.every((w) => w.tick !== undefined && w.tick.at > drainStart && w.tick.backlog === 0), 60_000 + options.stallSec * 1000, options.signal);
      const drainSec = (Date.now() - drainStart) / 1000;
      // Late copies of batches already stored may still reach a collector: wait for its counts to stand still.
      await settleCounts(collectors, options.signal);
      clearInterval(sampler);
      usage.stop();

      const finals = await Promise.all(workers.map((w) => finalOf(w)));
      const gates: GateFinal[] = finals.flatMap((f) => f.gates);
      const ackMs = finals.flatMap((f) => f.ackMs).sort((a, b) => a - b);
      const gateLog = new Map<string, number>();
      for (const f of finals) mergeCounts(gateLog, f.log);
      const collectorLog = new Map<string, number>();
      for (const c of collectors) mergeCounts(collectorLog, c.log);
      const audit = await auditTaps(postgres.url, gates);

      const firstFault = stallAt;
      const normal = calmLevel(samples, Math.min(10, firstFault / 2), firstFault);
      const stall = recoveryAfter(samples, normal, stallAt, stallEnd);
      const restart = recoveryAfter(samples, normal, restartT, restartEnd);
      const propagation = deny.filter((d) => d.seq === push.seq).map((d) => d.at - pushStart).sort((a, b) => a - b);
      const gatesCurrent = gates.filter((g) => g.denySeq === push.seq).length;
      const counts = collectors.reduce((sum, c) => ({ stored: sum.stored + c.counts.stored, duplicates: sum.duplicates + c.counts.duplicates, batches: sum.batches + c.counts.batches }), { stored: 0, duplicates: 0, batches: 0 });
      const duplicateShare = audit.journaled === 0 ? 0 : counts.duplicates / audit.journaled;
      const denyMaxMs = propagation.length === options.gates ? percentile(propagation, 100) : null;
      return {
        name: 'fleet-sim',
        gates: options.gates,
        workers: workerCount,
        minutes: options.minutes,
        stallSec: options.stallSec,
        gatesPerSite: options.gatesPerSite,
        rate: options.rate,
        tapsPerSecAsked: round1((options.gates * (options.rate.min + options.rate.max)) / 2),
        brokerPersistence: options.persistence,
        machine: { cpus: cpus().length, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg().map(round1), stateDir: options.stateDir },
        tapsPerSecOffered: round1(audit.journaled / tapEnd),
        tapsPerSecStored: round1(storedAtTapEnd / tapEnd),
        taps: { ...audit, drained, drainSec: round1(drainSec) },
        ackMs: { p50: percentile(ackMs, 50), p99: percentile(ackMs, 99), max: percentile(ackMs, 100), count: ackMs.length },
        duplicates: {
          count: counts.duplicates,
          shareOfTaps: Math.round(duplicateShare * 1e5) / 1e5,
          batchesReceived: counts.batches,
          // Where they came from, as the collectors' counts stood (reported each half second) when each fault began.
          byPhase: { beforeStall: duplicatesAtStall, fromStallToRestart: duplicatesAtRestart - duplicatesAtStall, fromRestart: counts.duplicates - duplicatesAtRestart },
        },
        denyList: {
          seq: push.seq,
          pushedAtSec: round1(pushT),
          fleetDenyExit: push.status,
          gatesReached: propagation.length,
          gatesCurrentAtEnd: gatesCurrent,
          p50Ms: percentile(propagation, 50),
          p99Ms: percentile(propagation, 99),
          maxMs: denyMaxMs,
        },
        backlog: { max: Math.max(0, ...samples.map((s) => s.backlog)), normal, stall, brokerRestart: restart, series: thin(samples, 240).map((s) => [s.t, s.backlog]) },
        parts: usage.figures(),
        workerEventLoopBusy: Object.fromEntries([...busy].map(([name, values]) => [name, { mean: round2(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)), max: Math.max(0, ...values) }])),
        logs: { collectors: Object.fromEntries(collectorLog), gates: Object.fromEntries([...gateLog].filter(([key]) => !key.startsWith('info: barrier') && !key.startsWith('info: refused'))) },
        goals: {
          backlogBackWithin30s: stall.backToNormalSec !== null && stall.backToNormalSec <= 30 && restart.backToNormalSec !== null && restart.backToNormalSec <= 30,
          denyListAtEveryGateWithin10s: denyMaxMs !== null && denyMaxMs <= 10_000,
          duplicatesUnder1Percent: duplicateShare < 0.01,
        },
      };
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await Promise.all(workers.map(async (w) => {
      if (w.child.connected) w.child.send({ type: 'stop' });
      await exited(w.child, 15_000);
    }));
    await Promise.all(collectors.map(async (c) => {
      c.child.kill('SIGCONT');
      if (c.child.connected) c.child.send({ type: 'stop' });
      await exited(c.child, 10_000);
    }));
    await broker?.stop();
    await postgres?.remove();
    removeBase();
    process.off('exit', removeBase);
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function gateSpecs(count: number, perSite: number, base: string, trust: TrustListDocument): GateSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const site = `cq-metro-${String(Math.floor(i / perSite) + 1).padStart(4, '0')}`;
    const id = `${site}-g${String((i % perSite) + 1).padStart(2, '0')}`;
    const dir = join(base, 'gates', id);
    provisionGateDir(dir, trust);
    return { id, site, dir };
  });
}

async function startCollector(name: string, broker: string, db: string): Promise<Collector> {
  const child = forkChild('collectorWorker', [broker, db, `fleetsim-${name}`, SHARE_GROUP]);
  const collector: Collector = { name, child, counts: { batches: 0, stored: 0, duplicates: 0, conflicts: 0, malformed: 0 }, log: [] };
  child.on('message', (message: CollectorReport) => {
    if (message.type !== 'counts') return;
    collector.counts = message.counts;
    collector.log = message.log;
  });
  await nextMessage(child, (m) => ((m as CollectorReport).type === 'collecting' ? true : undefined), `${name} start`, 30_000);
  return collector;
}

function finalOf(worker: Worker): Promise<WorkerFinal> {
  const answer = nextMessage(worker.child, (m) => ((m as FromWorker).type === 'final' ? (m as WorkerFinal) : undefined), `${worker.name} final figures`, 60_000);
  worker.child.send({ type: 'final' });
  return answer;
}

/** The broker and PostgreSQL are the rig's children, found by their command (the broker's process changes at its restart). */
function sampleParts(usage: PartUsage, broker: Mosquitto | undefined, postgres: Postgres | undefined, collectors: Collector[], workers: Worker[]): void {
  for (const pid of childrenOf(process.pid)) {
    const command = commandOf(pid);
    if (broker && command.endsWith('/mosquitto')) usage.sample('broker', pid);
    else if (postgres && command.endsWith('/postgres')) usage.sample('postgres', pid, true);
  }
  for (const c of collectors) usage.sample(c.name, c.child.pid);
  for (const w of workers) usage.sample(w.name, w.child.pid);
  usage.sample('rig', process.pid);
}

function duplicatesNow(collectors: Collector[]): number {
  return collectors.reduce((sum, c) => sum + c.counts.duplicates, 0);
}

async function settleCounts(collectors: Collector[], signal: AbortSignal | undefined): Promise<void> {
  let last = '';
  for (let i = 0; i < 20; i++) {
    const now = JSON.stringify(collectors.map((c) => c.counts));
    if (now === last) return;
    last = now;
    await sleep(1000, signal);
  }
}

/** Rejects at once when `signal` is aborted: every wait of the run is a place where it can stop. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('stopped'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('stopped'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function sleepUntil(t0: number, sec: number, signal: AbortSignal | undefined): Promise<void> {
  const ms = t0 + sec * 1000 - Date.now();
  await sleep(Math.max(0, ms), signal);
}

/** Whether `check` came true within the wait. */
async function until(check: () => boolean, timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(200, signal);
  }
  return true;
}
