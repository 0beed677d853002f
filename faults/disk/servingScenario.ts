import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DiskRig } from './diskRig.js';
import type { FaultyDisk } from './faultyDisk.js';
import type { CodeOutcome } from './gateLog.js';
import { GateProcess } from './gateProcess.js';
import { journalFailing, journalOk } from './statusWatch.js';
import { auditTaps, type JournalRow } from './tapAudit.js';
import { waitUntil } from '../waitUntil.js';

export interface ServingSize {
  /** Break and mend cycles in one gate's life. */
  cycles: number;
  /** Codes served before each fault and after the last mend. */
  codesPerPhase: number;
  /** Codes presented while the journal is known to fail. */
  codesWhileBroken: number;
  /** A full disk may still take commits into WAL pages SQLite holds: give up if none fails after this many. */
  maxCodesUntilFailure: number;
}

export interface ServingFigures {
  name: string;
  codesPresented: number;
  committed: number;
  unjournaled: number;
  /** Per cycle: mend to "journal writable again" (in place) or to "gate ready" after the repair. */
  recoveredAfterMs: number[];
  /** The SQLite errors the gate logged with "tap not journaled", distinct. */
  journalErrors: string[];
  /** The journal-unavailable alarms the fleet saw in the status, distinct details. */
  statusAlarms: string[];
  barrierWithoutRow: string[];
  lost: string[];
  problems: string[];
  /** Worth a reader's eye, not a failure: exit codes of stops on a broken disk, fsck results. */
  notes: string[];
}

/**
 * A gate serving on a disk that breaks under it: served normally, then the
 * disk is broken and fresh codes are presented until the journal refuses one,
 * then a few more; the fleet must see `journal: failing` with the alarm;
 * then the disk is mended and the gate must recover (by itself, or after a
 * restart where the mend needs one) and accept new codes. At the end the log,
 * the journal and the collector are checked against each other.
 */
export async function runServingScenario(rig: DiskRig, disk: FaultyDisk, size: ServingSize): Promise<ServingFigures> {
  const gateId = `DISK-${disk.name.toUpperCase()}`;
  const config = rig.writeConfig(gateId, disk.stateDir);
  const runs: GateProcess[] = [];
  const presented: string[] = [];
  const figures: ServingFigures = { name: disk.name, codesPresented: 0, committed: 0, unjournaled: 0, recoveredAfterMs: [], journalErrors: [], statusAlarms: [], barrierWithoutRow: [], lost: [], problems: [], notes: [] };
  let lastSeq = 0;

  const startRun = async (): Promise<GateProcess> => {
    const gate = new GateProcess(rig.bin, config);
    runs.push(gate);
    await waitUntil(() => gate.has('connected to the broker') || !gate.alive(), `${gateId} connected to the broker`);
    if (!gate.alive()) throw new Error(`${gateId} exited ${gate.exitCode()} at start: ${gate.stderr.trim()}`);
    return gate;
  };

  /** Present codes in one burst; resolves with each one's outcome, in order. */
  const present = async (gate: GateProcess, label: string, count: number): Promise<CodeOutcome[]> => {
    const subjects = Array.from({ length: count }, (_, i) => `${disk.name}-${label}-${presented.length + i + 1}`);
    for (const subject of subjects) {
      presented.push(subject);
      gate.scan(rig.code(subject));
    }
    await waitUntil(() => subjects.every((subject) => gate.outcomes.has(subject)) || !gate.alive(), `outcomes of ${count} ${label} codes at ${gateId}`);
    if (!gate.alive()) throw new Error(`${gateId} exited ${gate.exitCode()} while serving: ${gate.stderr.trim()}`);
    const outcomes = subjects.map((subject) => gate.outcomes.get(subject)![0]!);
    for (const outcome of outcomes) if (outcome.type === 'tap') lastSeq = Math.max(lastSeq, outcome.tap.seq);
    return outcomes;
  };

  const serve = async (gate: GateProcess, label: string): Promise<void> => {
    for (const outcome of await present(gate, label, size.codesPerPhase)) {
      if (outcome.type !== 'tap' || outcome.tap.reason !== 'ok') figures.problems.push(`${label}: a fresh code was not accepted: ${outcome.type === 'tap' ? outcome.tap.reason : `not journaled (${outcome.err})`}`);
    }
  };

  let gate: GateProcess | undefined;
  try {
    gate = await startRun();
    for (let cycle = 1; cycle <= size.cycles; cycle++) {
      await serve(gate, `serve${cycle}`);
      const statusMark = rig.status.of(gateId).length;
      disk.break();
      let failed = false;
      for (let tries = 0; !failed; tries++) {
        if (tries === size.maxCodesUntilFailure) throw new Error(`cycle ${cycle}: ${tries} codes committed on the ${disk.name} disk, none refused`);
        failed = (await present(gate, `broken${cycle}`, 1))[0]!.type === 'unjournaled';
      }
      await present(gate, `broken${cycle}`, size.codesWhileBroken);
      await waitUntil(() => rig.status.indexOf(gateId, statusMark, journalFailing) >= 0, `cycle ${cycle}: status with journal "failing" and the journal-unavailable alarm`);
      const failingAt = rig.status.indexOf(gateId, statusMark, journalFailing);
      if (disk.mending === 'in-place') {
        const mark = gate.lines.length - 1;
        const mendAt = Date.now();
        disk.mend();
        const running = gate;
        await waitUntil(() => running.has('journal writable again', mark), `cycle ${cycle}: "journal writable again" without a new tap`);
        figures.recoveredAfterMs.push(running.find('journal writable again', mark)!.time - mendAt);
      } else {
        const code = await gate.stop();
        figures.notes.push(`cycle ${cycle}: SIGTERM with the journal failing: exit ${code}${gate.has('stop failed') ? ` ("stop failed": ${String(gate.find('stop failed')!.err)})` : ''}`);
        const mendAt = Date.now();
        disk.mend();
        gate = await startRun();
        figures.recoveredAfterMs.push(gate.find('gate ready')!.time - mendAt);
      }
      await waitUntil(() => rig.status.indexOf(gateId, failingAt + 1, journalOk) >= 0, `cycle ${cycle}: status back to journal "ok"`);
    }
    await serve(gate, 'recovered');
    const upTo = lastSeq;
    await waitUntil(() => rig.collectedUpTo(gateId) >= upTo, `collector holding ${gateId} up to seq ${upTo}`, 30_000);
    const code = await gate.stop();
    if (code !== 0) figures.problems.push(`${gateId}: clean stop after recovery exited ${code}: ${gate.stderr.trim()}`);
  } catch (error) {
    figures.problems.push(`${disk.name}: ${(error as Error).message}`);
  } finally {
    for (const run of runs) run.kill();
    await Promise.all(runs.map((run) => run.exited));
  }
  let journal: JournalRow[] = [];
  try {
    journal = readJournal(disk.stateDir);
  } catch (error) {
    figures.problems.push(`${disk.name}: journal not readable after the run: ${(error as Error).message}`);
  }
  const unjournaled = runs.flatMap((run) => [...run.outcomes.values()].flat().flatMap((outcome) => (outcome.type === 'unjournaled' ? [outcome.err] : [])));
  figures.journalErrors = [...new Set(unjournaled)];
  const alarms = rig.status.of(gateId).filter(journalFailing).flatMap((status) => status.alarms!.filter((alarm) => alarm.type === 'journal-unavailable').map((alarm) => alarm.detail));
  figures.statusAlarms = [...new Set(alarms)];
  const audit = auditTaps({ presented, runs, journal, collected: rig.collected(gateId) });
  figures.codesPresented = presented.length;
  figures.committed = audit.committed;
  figures.unjournaled = audit.unjournaled;
  figures.barrierWithoutRow.push(...audit.barrierWithoutRow);
  figures.lost.push(...audit.lost);
  figures.problems.push(...audit.problems);
  return figures;
}

function readJournal(stateDir: string): JournalRow[] {
  const db = new Database(join(stateDir, 'journal.db'), { readonly: true });
  try {
    return db.prepare('SELECT seq, id, subject FROM taps ORDER BY seq').all() as JournalRow[];
  } finally {
    db.close();
  }
}
