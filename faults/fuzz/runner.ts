import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { openTargets } from './allTargets.js';
import { TargetTally, type FuzzFigures } from './figures.js';
import { crashed, type FuzzTarget, type Outcome } from './target.js';

export interface FuzzOptions {
  /** fast-check's seed; each target's stream is derived from it and the target's name. */
  seed: number;
  /** Either the same count for every target, or a total shared by the targets' weights. */
  inputsPerTarget?: number;
  totalInputs?: number;
  /** Run only these targets (by name). */
  only?: readonly string[];
  /** Targets to run instead of the parsers of the system (the harness's own tests use fakes). */
  targets?: readonly FuzzTarget[];
}

/** Inputs generated at a time: enough to keep generation cheap, few enough to yield to the event loop often. */
const CHUNK = 500;

function targetSeed(seed: number, name: string): number {
  return createHash('sha256').update(`${seed}:${name}`).digest().readInt32LE(0);
}

/** Split `total` by weight, every target at least one input, the sum exactly `total`. */
function shares(targets: readonly FuzzTarget[], options: FuzzOptions): number[] {
  if (options.inputsPerTarget !== undefined) return targets.map(() => options.inputsPerTarget!);
  const total = Math.max(options.totalInputs ?? 0, targets.length);
  const weight = targets.reduce((sum, t) => sum + t.weight, 0);
  const exact = targets.map((t) => ((total - targets.length) * t.weight) / weight);
  const counts = exact.map((x) => 1 + Math.floor(x));
  let left = total - counts.reduce((a, b) => a + b, 0);
  const byFraction = exact.map((x, i) => ({ i, f: x - Math.floor(x) })).sort((a, b) => b.f - a.f);
  for (const { i } of byFraction) {
    if (left-- <= 0) break;
    counts[i]!++;
  }
  return counts;
}

/** Run one input: whatever escapes the target's own reading of the result is a crash. */
export async function runInput<I>(target: FuzzTarget<I>, input: I): Promise<Outcome> {
  try {
    const outcome = target.run(input);
    return outcome instanceof Promise ? await outcome.catch(crashed) : outcome;
  } catch (error) {
    return crashed(error);
  }
}

async function fuzzTarget<I>(target: FuzzTarget<I>, count: number, seed: number, figures: FuzzFigures): Promise<void> {
  const tally = new TargetTally(target.name);
  const started = performance.now();
  for (let done = 0, chunk = 0; done < count; chunk++) {
    const inputs = fc.sample(target.arbitrary, { seed: seed + chunk, numRuns: Math.min(CHUNK, count - done) });
    for (const input of inputs) {
      const t0 = performance.now();
      const outcome = await runInput(target, input);
      tally.record(outcome, performance.now() - t0, () => target.encode(input));
    }
    done += inputs.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
  figures.targets.push(tally.figures(performance.now() - started));
  figures.crashes.push(...tally.crashes);
  figures.violations.push(...tally.violations);
  figures.forgeries.push(...tally.forgeries);
  figures.slow.push(...tally.slow);
  figures.inputs += count;
}

/**
 * Throw generated and mutated inputs at every parser at the system's edges
 * (see allTargets.ts) and count what each did: accepted, refused with a
 * reason, crashed, answered against its contract, forged, slow. Reproducible from `seed`; every crash and
 * forgery comes with its input.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzFigures> {
  const started = performance.now();
  const suite = options.targets ? { targets: options.targets, close: async () => {} } : await openTargets();
  try {
    const targets = suite.targets.filter((t) => options.only === undefined || options.only.includes(t.name));
    const counts = shares(targets, options);
    const figures: FuzzFigures = { seed: options.seed, inputs: 0, targets: [], crashes: [], violations: [], forgeries: [], slow: [], durationMs: 0 };
    for (const [i, target] of targets.entries()) await fuzzTarget(target, counts[i]!, targetSeed(options.seed, target.name), figures);
    figures.durationMs = Math.round(performance.now() - started);
    return figures;
  } finally {
    await suite.close();
  }
}

/** Run one reported input again (a crash, a forgery, a slow one) against the same target. */
export async function replayFuzzInput(targetName: string, encoded: string): Promise<Outcome> {
  const suite = await openTargets();
  try {
    const target = suite.targets.find((t) => t.name === targetName);
    if (!target) throw new Error(`no fuzz target ${targetName}; there are ${suite.targets.map((t) => t.name).join(', ')}`);
    return await runInput(target, target.decode(encoded));
  } finally {
    await suite.close();
  }
}
