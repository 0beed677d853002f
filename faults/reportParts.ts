import { runCrashLoop } from './crash/crashLoop.js';
import { CI_CRASH_LOOP, LONG_CRASH_LOOP } from './crash/sizes.js';
import { LONG_DISK_FAULTS, runDiskFaults, SHORT_DISK_FAULTS } from './disk/runDiskFaults.js';
import { runFuzz } from './fuzz/runner.js';
import { CI_FUZZ, LONG_FUZZ } from './fuzz/sizes.js';
import { fuzzSummary } from './fuzz/summary.js';
import { runHostile } from './hostile/runHostile.js';
import { OUTAGES_CI, OUTAGES_LONG, runOutages } from './outage/runOutages.js';

/** What the README's fault figures add up, per part; absent counts are 0. `lost` and `wrong` must be 0. */
export interface PartHeadline {
  kills?: number;
  tapsChecked?: number;
  fuzzInputs?: number;
  attacksRefused?: number;
  lost: number;
  /** Anything accepted or answered wrongly, or a problem the harness found. */
  wrong: number;
}

export interface ReportPart {
  name: string;
  run(ci: boolean): Promise<{ headline: PartHeadline; figures: unknown; lines: string[] }>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

/** The harnesses `npm run faults` runs, in order: the quick ones first, so a broken setup shows early. */
export const reportParts: ReportPart[] = [
  {
    name: 'hostile',
    async run() {
      const f = await runHostile({ pcsc: true });
      const headline = { attacksRefused: f.refusedRightly, lost: 0, wrong: f.wrong.length };
      const lines = [`hostile: ${f.cases} attacks, ${f.refusedRightly} refused with the right reason; ${f.controlsAccepted}/${f.controls} controls passed (${seconds(f.durationMs)})`];
      for (const w of f.wrong) lines.push(`  WRONG ${w.case}: expected ${w.expected}, got ${w.got}`);
      return { headline, figures: f, lines };
    },
  },
  {
    name: 'fuzz',
    async run(ci) {
      const f = await runFuzz(ci ? CI_FUZZ : LONG_FUZZ);
      return { headline: { fuzzInputs: f.inputs, lost: 0, wrong: f.crashes.length + f.violations.length + f.forgeries.length }, figures: f, lines: fuzzSummary(f).split('\n') };
    },
  },
  {
    name: 'disk',
    async run(ci) {
      const f = await runDiskFaults(ci ? SHORT_DISK_FAULTS : LONG_DISK_FAULTS);
      const headline = { tapsChecked: f.committed, lost: f.lost.length, wrong: f.barrierWithoutRow.length + f.problems.length };
      const recovered = Object.entries(f.recoveredAfterMs).map(([fault, ms]) => `${fault} back after ${ms.map((m) => seconds(m)).join(', ')}`);
      const lines = [
        `disk: ${f.codesPresented} codes, ${f.committed} committed, ${f.unjournaled} refused unjournaled; ${recovered.join('; ')}; start on a bad disk: ${f.startOnBadDisk.map((c) => `${c.case}: ${c.outcome}`).join(', ')} (${seconds(f.durationMs)})`,
        ...[...f.lost, ...f.barrierWithoutRow, ...f.problems].map((p) => `  PROBLEM ${p}`),
      ];
      return { headline, figures: f, lines };
    },
  },
  {
    name: 'outages',
    async run(ci) {
      const f = await runOutages(ci ? OUTAGES_CI : OUTAGES_LONG);
      const taps = f.dayOffline.taps + f.flapping.taps + f.restartWithPersistence.taps + f.restartWithoutPersistence.taps;
      const lines = [
        `outages: a day offline, ${f.dayOffline.taps} taps, drained in ${seconds(f.dayOffline.drainMs)}; ${f.flapping.flaps} flaps (${f.flapping.reconnects} reconnects, ${f.flapping.duplicates} duplicates deduped); broker restarts with and without persistence (${f.restartWithPersistence.taps + f.restartWithoutPersistence.taps} taps); lost ${f.lost} (${seconds(f.wallMs)})`,
        ...f.problems.map((p) => `  PROBLEM ${p}`),
      ];
      return { headline: { tapsChecked: taps, lost: f.lost, wrong: f.problems.length }, figures: f, lines };
    },
  },
  {
    name: 'crash',
    async run(ci) {
      const f = await runCrashLoop({ ...(ci ? CI_CRASH_LOOP : LONG_CRASH_LOOP), onProgress: (message) => process.stderr.write(`  ${message}\n`) });
      const wrong = f.doubleAccepted.length + f.barrierWithoutRow.length + f.problems.length;
      const lines = [
        `crash: ${f.kills} kills on ${f.gates} gates (${f.killsDuringStartup} during startup, ${f.killsWithTapsInFlight} with taps in flight, ${f.killsWithUploadInFlight} mid-upload), ${f.tapsInJournal} taps (${f.accepted} accepted), ${f.checked} checks; lost ${f.lost.length}, accepted twice ${f.doubleAccepted.length}, barrier without a row ${f.barrierWithoutRow.length} (${seconds(f.durationMs)})`,
        ...[...f.lost, ...f.doubleAccepted, ...f.barrierWithoutRow].map((p) => `  PROBLEM ${JSON.stringify(p)}`),
        ...f.problems.map((p) => `  PROBLEM ${p}`),
      ];
      return { headline: { kills: f.kills, tapsChecked: f.checked, lost: f.lost.length, wrong }, figures: f, lines };
    },
  },
];
