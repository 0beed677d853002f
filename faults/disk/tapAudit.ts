import type { GateLog } from './gateLog.js';

/** A journal row as the audit reads it back from the gate's SQLite file. */
export interface JournalRow {
  seq: number;
  id: string;
  subject: string | null;
}

export interface AuditInput {
  /** Subjects of the codes presented, one code each. */
  presented: readonly string[];
  /** Every run of the gate, in order: a repair may have restarted it. */
  runs: readonly GateLog[];
  /** The journal after the last run stopped. */
  journal: readonly JournalRow[];
  /** What the reference collector stored for this gate. */
  collected: readonly { id: string; seq: number }[];
}

export interface Audit {
  committed: number;
  unjournaled: number;
  barrierWithoutRow: string[];
  lost: string[];
  problems: string[];
}

/**
 * The checks after a run, each against a second source: every code has one
 * outcome in the log; every tap logged is a journal row with its seq and id;
 * the barrier opened only right after a committed tap's "barrier opened"
 * line (stdout order, one process); seq gapless with nothing burned by a
 * failed commit; every row at the collector.
 */
export function auditTaps(input: AuditInput): Audit {
  const audit: Audit = { committed: 0, unjournaled: 0, barrierWithoutRow: [], lost: [], problems: [] };
  const rowsBySeq = new Map(input.journal.map((row) => [row.seq, row]));
  checkOutcomes(input, rowsBySeq, audit);
  for (const [run, gate] of input.runs.entries()) checkBarrier(gate, run, rowsBySeq, audit);
  checkSeq(input.journal, audit);
  checkCollected(input, audit);
  return audit;
}

function checkOutcomes(input: AuditInput, rowsBySeq: Map<number, JournalRow>, audit: Audit): void {
  const unjournaledSubjects = new Set<string>();
  let lastLoggedSeq = 0;
  for (const subject of input.presented) {
    const outcomes = input.runs.flatMap((gate) => gate.outcomes.get(subject) ?? []);
    if (outcomes.length !== 1) audit.problems.push(`code ${subject}: ${outcomes.length} outcomes in the log, expected one (a tap or "tap not journaled")`);
    for (const outcome of outcomes) {
      if (outcome.type === 'unjournaled') {
        audit.unjournaled++;
        unjournaledSubjects.add(subject);
        continue;
      }
      audit.committed++;
      const { seq, id } = outcome.tap;
      const row = rowsBySeq.get(seq);
      if (row?.id !== id) audit.lost.push(`tap seq ${seq} id ${id} (${subject}) logged as committed but the journal has ${row ? `id ${row.id}` : 'no row'} at that seq`);
      // Taps are logged in commit order: a seq that is not the next one was burned or reused.
      if (seq !== lastLoggedSeq + 1) audit.problems.push(`tap ${subject}: seq ${seq} logged after seq ${lastLoggedSeq}`);
      lastLoggedSeq = seq;
    }
  }
  const logged = new Set(input.runs.flatMap((gate) => [...gate.outcomes.values()].flat().flatMap((outcome) => (outcome.type === 'tap' ? [outcome.tap.id] : []))));
  for (const row of input.journal) {
    if (!logged.has(row.id)) audit.problems.push(`journal row seq ${row.seq} id ${row.id} was never logged as a tap`);
    if (row.subject !== null && unjournaledSubjects.has(row.subject)) audit.problems.push(`code ${row.subject}: logged "tap not journaled" but the journal has it at seq ${row.seq}`);
  }
}

function checkBarrier(gate: GateLog, run: number, rowsBySeq: Map<number, JournalRow>, audit: Audit): void {
  for (const line of gate.lines) {
    if (line.msg === 'barrier opened for tap') {
      const row = rowsBySeq.get(Number(line.seq));
      if (row?.id !== line.id) audit.barrierWithoutRow.push(`run ${run + 1}: barrier opened for seq ${String(line.seq)} id ${String(line.id)}, but the journal has ${row ? `id ${row.id}` : 'no row'}`);
    } else if (line.msg === 'sim barrier' && line.barrier === 'open') {
      // The gate logs the commit's "barrier opened" and then commands the barrier in the same tick: nothing comes between.
      const before = gate.lines[line.index - 1];
      if (before?.msg !== 'barrier opened for tap') audit.barrierWithoutRow.push(`run ${run + 1}: barrier opened at stdout line ${line.index} after "${before?.msg ?? 'nothing'}", not after a committed tap`);
    }
  }
}

function checkSeq(journal: readonly JournalRow[], audit: Audit): void {
  journal.forEach((row, i) => {
    if (row.seq !== i + 1) audit.problems.push(`journal seq ${row.seq} at position ${i + 1}: the seq has a gap`);
  });
}

function checkCollected(input: AuditInput, audit: Audit): void {
  const collected = new Map(input.collected.map((tap) => [tap.id, tap.seq]));
  for (const row of input.journal) {
    const seq = collected.get(row.id);
    if (seq === undefined) audit.lost.push(`tap seq ${row.seq} id ${row.id}: in the journal, not at the collector`);
    else if (seq !== row.seq) audit.problems.push(`tap ${row.id}: seq ${row.seq} in the journal, ${seq} at the collector`);
  }
  const journaled = new Set(input.journal.map((row) => row.id));
  for (const tap of input.collected) if (!journaled.has(tap.id)) audit.problems.push(`tap seq ${tap.seq} id ${tap.id} at the collector but not in the journal`);
}
