import { parseArgs } from 'node:util';
import { defaultStateDir, runFleetSim } from './fleetRig.js';

/*
 * `npm run fleet-sim [-- --gates N --minutes M --workers W --stall S --rate R --state-dir DIR]`:
 * the figures as one JSON object on stdout, progress on stderr (docs/fleet-sim.md).
 */

const USAGE = 'usage: fleet-sim [--gates N (1000)] [--minutes M (3)] [--workers W (4)] [--stall SECONDS (15)] [--gates-per-site N (10)] [--rate R | MIN-MAX (0.5-1)] [--state-dir DIR (/dev/shm)] [--persistence]';

function positive(name: string, text: string | undefined, fallback: number, integer: boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) throw new UsageError(`--${name} ${JSON.stringify(text)}: expected a positive ${integer ? 'whole ' : ''}number`);
  return value;
}

class UsageError extends Error {}

/** `--rate 1` (every gate at 1 tap/s) or `--rate 0.5-1` (each gate's rate drawn from the range). */
function rateRange(text: string | undefined): { min: number; max: number } {
  if (text === undefined) return { min: 0.5, max: 1 };
  const parts = text.split('-');
  const [min, max] = parts.map((part) => positive('rate', part, 0, false));
  if (parts.length > 2 || min === undefined || (max ?? min) < min) throw new UsageError(`--rate ${JSON.stringify(text)}: expected taps per second per gate, R or MIN-MAX with MIN <= MAX`);
  return { min, max: max ?? min };
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { gates: { type: 'string' }, minutes: { type: 'string' }, workers: { type: 'string' }, stall: { type: 'string' }, 'gates-per-site': { type: 'string' }, rate: { type: 'string' }, 'state-dir': { type: 'string' }, persistence: { type: 'boolean' } }, strict: true }));
  } catch (error) {
    process.stderr.write(`fleet-sim: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let options;
  try {
    options = {
      gates: positive('gates', values.gates, 1000, true),
      minutes: positive('minutes', values.minutes, 3, false),
      workers: positive('workers', values.workers, 4, true),
      stallSec: positive('stall', values.stall, 15, false),
      gatesPerSite: positive('gates-per-site', values['gates-per-site'], 10, true),
      rate: rateRange(values.rate),
      stateDir: values['state-dir'] ?? defaultStateDir(),
      persistence: values.persistence ?? false,
      say: (line: string) => process.stderr.write(`fleet-sim: ${line}\n`),
      signal: stopping.signal,
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`fleet-sim: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options.stallSec >= options.minutes * 60 * 0.25) {
    process.stderr.write(`fleet-sim: --stall ${options.stallSec} must be shorter than a quarter of the run (${options.minutes * 15} s), so that the deny-list push and the broker restart come after it\n`);
    return 2;
  }
  const figures = await runFleetSim(options);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  return 0;
}

// The first SIGINT/SIGTERM stops the run at its next wait, which stops every part in order (PostgreSQL
// shut down, not killed); a second one exits at once, and the exit handlers kill what is left (sim/exitReaper.ts).
const stopping = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (stopping.signal.aborted) process.exit(130);
    process.stderr.write('fleet-sim: stopping\n');
    stopping.abort();
  });
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (!stopping.signal.aborted) process.stderr.write(`fleet-sim: ${(error as Error).message}\n`);
    process.exit(stopping.signal.aborted ? 130 : 1);
  },
);
