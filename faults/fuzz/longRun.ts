import { writeFileSync } from 'node:fs';
import { replayFuzzInput, runFuzz } from './runner.js';
import { LONG_FUZZ } from './sizes.js';
import { fuzzSummary } from './summary.js';

/*
 * The fuzz run from the command line:
 *   node dist/faults/fuzz/longRun.js [inputs] [seed] [figures.json]   the long run (default 1,000,000 inputs)
 *   node dist/faults/fuzz/longRun.js replay <target> '<input>'         one reported input again
 * Exits 1 if anything crashed, answered against its contract or was forged.
 */
const args = process.argv.slice(2);
if (args[0] === 'replay') {
  const outcome = await replayFuzzInput(args[1] ?? '', args[2] ?? '');
  console.log(JSON.stringify(outcome, null, 2));
  process.exitCode = outcome.kind === 'crash' || outcome.kind === 'violation' || (outcome.kind === 'accepted' && outcome.forgery !== undefined) ? 1 : 0;
} else {
  const [inputs, seed, out] = args;
  const figures = await runFuzz({ totalInputs: inputs ? Number(inputs) : LONG_FUZZ.totalInputs, seed: seed ? Number(seed) : LONG_FUZZ.seed });
  console.log(fuzzSummary(figures));
  if (out) writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
  process.exitCode = figures.crashes.length + figures.violations.length + figures.forgeries.length > 0 ? 1 : 0;
}
