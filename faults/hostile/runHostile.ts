import { performance } from 'node:perf_hooks';
import { hostileCatalogue } from './catalogue.js';
import { SetupFailed } from './hostileCase.js';
import { HostileWorld } from './hostileWorld.js';

export interface HostileOptions {
  /** Also present cards through the real pcscd + vpcd stack (one private pcscd per process). Default true. */
  pcsc?: boolean;
}

export interface HostileResult {
  group: string;
  case: string;
  attack: string;
  control: boolean;
  expected: string;
  got: string;
}

export interface HostileFigures {
  /** Attacks run (controls not counted). */
  cases: number;
  /** Attacks whose outcome was exactly the expected refusal, with nothing else changed. */
  refusedRightly: number;
  /** Every case, attack or control, whose outcome differed from the expected one. */
  wrong: { case: string; expected: string; got: string }[];
  controls: number;
  controlsAccepted: number;
  results: HostileResult[];
  durationMs: number;
}

/**
 * Attack two running gates of one site (in-process, real FleetLink on a
 * private mosquitto, gate A also behind the real PC/SC stack) with every
 * case of the catalogue, in order, and compare each outcome with the one
 * expected. Controls (the genuine credential or message) must pass.
 */
export async function runHostile(options: HostileOptions = {}): Promise<HostileFigures> {
  const started = performance.now();
  const pcsc = options.pcsc ?? true;
  const catalogue = hostileCatalogue().filter((c) => pcsc || c.needs !== 'pcsc');
  const world = await HostileWorld.start({ pcsc });
  const results: HostileResult[] = [];
  try {
    for (const c of catalogue) {
      // Every case is a new passenger: no presentation is folded into the previous one's double tap.
      world.nextPassenger();
      let got: string;
      try {
        got = await c.run(world);
      } catch (error) {
        got = error instanceof SetupFailed ? `setup failed: ${error.message}` : `error: ${(error as Error).stack ?? String(error)}`;
      }
      results.push({ group: c.group, case: c.name, attack: c.attack, control: c.control === true, expected: c.expected, got });
    }
  } finally {
    await world.stop();
  }
  const attacks = results.filter((r) => !r.control);
  const controls = results.filter((r) => r.control);
  return {
    cases: attacks.length,
    refusedRightly: attacks.filter((r) => r.got === r.expected).length,
    wrong: results.filter((r) => r.got !== r.expected).map((r) => ({ case: r.case, expected: r.expected, got: r.got })),
    controls: controls.length,
    controlsAccepted: controls.filter((r) => r.got === r.expected).length,
    results,
    durationMs: Math.round(performance.now() - started),
  };
}
