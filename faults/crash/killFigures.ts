import type { Tap } from '../../src/core/tap.js';
import type { RunRecord } from './crashedGate.js';
import type { CrashLoopFigures } from './figures.js';

/**
 * Where one gate's kills landed, judged by its journal: a run's rows are
 * those presented between its spawn and its exit (a gate's runs never
 * overlap). Codes written to a run and not committed were in flight when it
 * died (in the pipe or the gate's queue); committed rows beyond the
 * collector's ack were uploads in flight.
 */
export function addKillFigures(figures: CrashLoopFigures, runs: readonly RunRecord[], journal: readonly Tap[]): void {
  const rows = journal.map((tap) => ({ at: Date.parse(tap.at), seq: tap.seq }));
  for (const run of runs) {
    if (run.moment === 'drain') continue;
    const mine = rows.filter((row) => row.at >= run.spawnedAt && row.at <= run.endedAt);
    const lastCommitted = Math.max(0, ...mine.map((row) => row.seq));
    figures.kills++;
    figures.killsByMoment[run.moment]++;
    if (!run.ready) figures.killsDuringStartup++;
    if (run.ready && run.codesWritten > mine.length) figures.killsWithTapsInFlight++;
    if (lastCommitted > run.ackedAtKill) figures.killsWithUploadInFlight++;
    figures.tapLinesLostAtKill += Math.max(0, mine.length - run.tapLines);
  }
}
