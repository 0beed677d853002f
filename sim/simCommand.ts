import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, parseWith } from '../src/app/settingsSchema.js';
import type { Outcome } from '../src/core/gate.js';
import { scenarioSchema, type Scenario } from './scenario.js';
import { RunCleanup } from './runCleanup.js';
import { runScenario } from './scenarioRunner.js';
import { countByReason, simJournal, simLog, writeSummary } from './simOutput.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Scenario files live in sim/scenarios; the build (dist/sim) finds them in the source tree. */
export const SCENARIO_DIR = [join(here, 'scenarios'), join(here, '..', '..', 'sim', 'scenarios')].find((dir) => existsSync(dir)) ?? join(here, 'scenarios');
export const BUILT_IN_SCENARIO = join(SCENARIO_DIR, 'rush-hour.json');

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read scenario ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InputError(`scenario ${path} is not JSON: ${(error as Error).message}`);
  }
  return parseWith(scenarioSchema, document, path);
}

/**
 * A tap as `citygate sim` prints it: the journal's row and the passenger's
 * name. A bank card's row names it by token and masked PAN (kind `emv`,
 * `emv.pan`), never by its PAN.
 */
export function tapLine(outcome: Outcome, passenger: string): string | undefined {
  if (outcome.type === 'tap') return JSON.stringify({ ...outcome.tap, passenger });
  return undefined;
}

/**
 * `citygate sim`: every tap as one JSON line on stdout; repeats, alarms and the
 * summary on stderr. Exit 1 if any passenger's outcome differs from what the
 * scenario expects.
 */
export async function simCommand(options: { scenario?: string; journal?: string; append?: boolean }): Promise<number> {
  const scenario = loadScenario(options.scenario ?? BUILT_IN_SCENARIO);
  const journal = options.journal === undefined ? undefined : simJournal(options.journal, options.append ?? false);
  const cleanup = new RunCleanup();
  const scratch = journal ? undefined : mkdtempSync(join(tmpdir(), 'citygate-sim-'));
  if (scratch) cleanup.add(() => rmSync(scratch, { recursive: true, force: true }));
  const journalPath = journal ?? join(scratch!, 'journal.db');
  const log = simLog();
  return cleanup.around(async () => {
    const run = await runScenario(scenario, {
      journalPath,
      log,
      onOutcome: (outcome, passenger) => {
        const text = tapLine(outcome, passenger);
        if (text) process.stdout.write(`${text}\n`);
        else process.stderr.write(`${JSON.stringify({ passenger, outcome: outcome.type })}\n`);
      },
    });
    const outcomes = run.passengers.flatMap((p) => p.outcomes);
    const taps = outcomes.filter((o) => o.type === 'tap');
    const mismatches = [...run.passengers, ...run.events].filter((p) => p.mismatch);
    for (const p of mismatches) process.stderr.write(`mismatch: ${p.name}: ${p.mismatch}\n`);
    const summary = {
      scenario: scenario.name,
      passengers: run.passengers.length,
      events: run.events.length,
      taps: taps.length,
      accepted: taps.filter((o) => o.tap.result === 'accepted').length,
      byReason: countByReason(outcomes),
      barrierOpenings: run.barrier.filter((a) => a.action === 'open').length,
      alarms: run.alarms.length,
      mismatches: mismatches.length,
      journal: journal ?? null,
    };
    await writeSummary(summary);
    return mismatches.length === 0 ? 0 : 1;
  });
}
