import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { TestIssuer } from '../../sim/issuer.js';
import { CountingLog } from './countingLog.js';
import { startSimGate, type SimGate } from './simGate.js';
import type { FromWorker, GateFinal, ToWorker, WorkerConfig } from './workerMessages.js';

/*
 * A gate worker: many simulated gates in one process, each with its own
 * journal, deny-list store and FleetLink (its own MQTT connection). Started
 * by the rig with a config file; talks to it over IPC only.
 */

/** What the probe has seen of one gate. */
interface Seen {
  /** Committed taps not yet covered by the delivered mark: [seq, committed at ms]. */
  pending: [number, number][];
  lastSeq: number;
  delivered: number;
  denySeq: number;
}

interface GateState extends Seen {
  gate: SimGate;
  rate: number;
  timer: NodeJS.Timeout | undefined;
  subjects: number;
}

function send(message: FromWorker, then?: () => void): void {
  process.send?.(message, undefined, undefined, () => then?.());
}

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as WorkerConfig;
const privateKey = createPrivateKey(config.issuer.privateKeyPem);
const issuer = new TestIssuer(config.issuer.id, 'EdDSA', Buffer.from(config.issuer.kid, 'base64url'), { alg: 'EdDSA', privateKey, publicKey: createPublicKey(privateKey) });
const log = new CountingLog();
const gates: GateState[] = [];
const ackMs: number[] = [];
let tapping = false;

function present(state: GateState): void {
  state.subjects++;
  const code = issuer.issuerCode({ sub: `${state.gate.gateId}-${state.subjects}`, iat: Math.floor(Date.now() / 1000) });
  state.gate.parts.gate.presentCode(code).catch(() => undefined);
}

/** Taps at the gate's rate, with the gap between passengers jittered so gates do not tap in step. */
function schedule(state: GateState): void {
  const meanMs = 1000 / state.rate;
  state.timer = setTimeout(() => {
    if (!tapping) return;
    present(state);
    schedule(state);
  }, meanMs * (0.5 + Math.random()));
}

async function startGates(): Promise<void> {
  const stepMs = config.startSpreadMs / Math.max(1, config.gates.length);
  for (const spec of config.gates) {
    const seen: Seen = { pending: [], lastSeq: 0, delivered: 0, denySeq: 0 };
    const gate = await startSimGate(
      { url: config.url, gateId: spec.id, site: spec.site, dir: spec.dir, log },
      {
        tap(seq, at) {
          seen.lastSeq = seq;
          seen.pending.push([seq, at]);
        },
        delivered(mark, at) {
          seen.delivered = mark;
          let done = 0;
          while (done < seen.pending.length && seen.pending[done]![0] <= mark) ackMs.push(at - seen.pending[done++]![1]);
          if (done > 0) seen.pending.splice(0, done);
        },
        denyApplied(issuerId, seq, at) {
          if (issuerId !== config.denyIssuer) return;
          seen.denySeq = seq;
          send({ type: 'deny', gate: spec.id, issuer: issuerId, seq, at });
        },
      },
    );
    // The same object: the probe's callbacks keep writing into what the ticks read.
    gates.push(Object.assign(seen, { gate, rate: config.rate.min + Math.random() * (config.rate.max - config.rate.min), timer: undefined, subjects: 0 }));
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

let lastElu = performance.eventLoopUtilization();

function tick(): void {
  const elu = performance.eventLoopUtilization(lastElu);
  lastElu = performance.eventLoopUtilization();
  let backlog = 0;
  let denySeqMin = Number.MAX_SAFE_INTEGER;
  for (const state of gates) {
    backlog += state.lastSeq - state.delivered;
    denySeqMin = Math.min(denySeqMin, state.denySeq);
  }
  send({ type: 'tick', at: Date.now(), backlog, denySeqMin: gates.length === 0 ? 0 : denySeqMin, busy: Math.round(elu.utilization * 100) / 100 });
}

function final(): void {
  const finals: GateFinal[] = gates.map((state) => ({
    gate: state.gate.gateId,
    lastSeq: state.gate.parts.journal.lastTapSeq(),
    delivered: state.gate.parts.journal.deliveredSeq(),
    denySeq: state.gate.denyList.seqs()[config.denyIssuer] ?? 0,
  }));
  send({ type: 'final', gates: finals, ackMs, log: [...log.counts] });
}

async function stop(): Promise<void> {
  tapping = false;
  clearInterval(ticker);
  for (const state of gates) clearTimeout(state.timer);
  await Promise.all(gates.map((state) => state.gate.stop().catch(() => undefined)));
  send({ type: 'stopped' }, () => process.exit(0));
}

const ticker = setInterval(tick, 1000);
process.on('message', (message: ToWorker) => {
  if (message.type === 'taps') {
    tapping = message.on;
    if (tapping) for (const state of gates) schedule(state);
    else for (const state of gates) clearTimeout(state.timer);
  } else if (message.type === 'final') final();
  else if (message.type === 'stop') void stop();
});
// The rig gone (killed, crashed): nothing here may outlive it.
process.on('disconnect', () => process.exit(0));
startGates().then(
  () => send({ type: 'started', gates: gates.length }),
  (error: unknown) => {
    process.stderr.write(`gate worker: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
