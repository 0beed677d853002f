import { join } from 'node:path';
import { DiskRig } from './diskRig.js';
import type { FaultyDisk } from './faultyDisk.js';
import { FullDisk } from './fullDisk.js';
import { ReadOnlyCard } from './readOnlyCard.js';
import { runServingScenario, type ServingFigures, type ServingSize } from './servingScenario.js';
import { runStartScenarios, type StartCase } from './startScenario.js';
import { Teardown } from '../teardown.js';

export interface DiskFaultOptions extends Partial<ServingSize> {
  /** Size of each tmpfs (MiB): small, so that filling it is quick. */
  tmpfsMb?: number;
  /** Size of the ext4 card image (MiB). */
  cardMb?: number;
}

export interface DiskFaultFigures {
  /** The gates that served through a fault, one per kind of fault. */
  scenarios: ServingFigures[];
  /** Gates started on a disk that was bad already. */
  startOnBadDisk: StartCase[];
  codesPresented: number;
  committed: number;
  unjournaled: number;
  /** Barrier openings without a committed row: must be empty. */
  barrierWithoutRow: string[];
  recoveredAfterMs: Record<string, number[]>;
  /** Committed taps missing from the journal or the collector: must be empty. */
  lost: string[];
  problems: string[];
  durationMs: number;
}

/** CI size: one break and mend per fault. */
export const SHORT_DISK_FAULTS: Required<DiskFaultOptions> = { cycles: 1, codesPerPhase: 5, codesWhileBroken: 3, maxCodesUntilFailure: 200, tmpfsMb: 4, cardMb: 16 };
export const LONG_DISK_FAULTS: Required<DiskFaultOptions> = { ...SHORT_DISK_FAULTS, cycles: 10, codesPerPhase: 20, codesWhileBroken: 10 };

/**
 * Issue 7, disk faults: the real daemon on a real tmpfs filled to the last
 * byte, and on an ext4 card the kernel turns read-only under it, with a real
 * broker and the reference collector; then started on a bad disk. Needs root
 * (mount, loop devices) and a built dist/.
 */
export async function runDiskFaults(options: DiskFaultOptions = {}): Promise<DiskFaultFigures> {
  const size = { ...SHORT_DISK_FAULTS, ...options };
  const started = Date.now();
  const teardown = new Teardown();
  const scenarios: ServingFigures[] = [];
  let startOnBadDisk: StartCase[] = [];
  const problems: string[] = [];
  try {
    const rig = await DiskRig.start(teardown);
    const disks: (() => FaultyDisk)[] = [() => FullDisk.create(join(rig.dir, 'full'), size.tmpfsMb), () => ReadOnlyCard.create(rig.dir, size.cardMb)];
    for (const create of disks) {
      const disk = create();
      teardown.add(`dispose ${disk.name}`, () => disk.dispose());
      scenarios.push(await runServingScenario(rig, disk, size));
      if (disk instanceof FullDisk) scenarios.at(-1)!.notes.push(`filler took ${disk.filled.join(', ')} bytes`);
      if (disk instanceof ReadOnlyCard) scenarios.at(-1)!.notes.push(`e2fsck exit per repair: ${disk.fsck.join(', ')}`);
    }
    startOnBadDisk = await runStartScenarios(rig, teardown, size.tmpfsMb);
    if (rig.status.malformed > 0) problems.push(`${rig.status.malformed} status messages were not JSON`);
  } catch (error) {
    problems.push(`disk faults: ${(error as Error).message}`);
  } finally {
    await teardown.run();
  }
  for (const start of startOnBadDisk) {
    if (start.outcome !== 'refused-to-start' && start.outcome !== 'serves-refusals') problems.push(`start ${start.case}: ${start.outcome} (exit ${start.exitCode}): ${start.message}`);
  }
  problems.push(...teardown.failures.map((failure) => `cleanup: ${failure}`));
  return {
    scenarios,
    startOnBadDisk,
    codesPresented: sum(scenarios, (s) => s.codesPresented),
    committed: sum(scenarios, (s) => s.committed),
    unjournaled: sum(scenarios, (s) => s.unjournaled),
    barrierWithoutRow: scenarios.flatMap((s) => s.barrierWithoutRow),
    recoveredAfterMs: Object.fromEntries(scenarios.map((s) => [s.name, s.recoveredAfterMs])),
    lost: scenarios.flatMap((s) => s.lost),
    problems: [...scenarios.flatMap((s) => s.problems), ...problems],
    durationMs: Date.now() - started,
  };
}

function sum(scenarios: ServingFigures[], of: (s: ServingFigures) => number): number {
  return scenarios.reduce((total, s) => total + of(s), 0);
}
