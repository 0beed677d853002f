import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GateLog } from '../faults/disk/gateLog.js';
import { runDiskFaults, SHORT_DISK_FAULTS, type DiskFaultFigures } from '../faults/disk/runDiskFaults.js';
import type { ServingFigures } from '../faults/disk/servingScenario.js';
import { FULL, judgeRefusal, READ_ONLY } from '../faults/disk/startScenario.js';
import { auditTaps, type JournalRow } from '../faults/disk/tapAudit.js';

/*
 * Issue 7, disk faults, at CI size: the real daemon on a real tmpfs filled to
 * the last byte and on an ext4 card the kernel turns read-only under it, with
 * a real mosquitto and the reference collector; then started on a bad disk.
 * Runs as root (mount, loop devices), as CI does.
 */

/** pino-like stdout of a gate, for checking that the audit catches what it must. */
function logOf(lines: object[]): GateLog {
  const log = new GateLog();
  for (const line of lines) log.add({ time: 0, ...(line as { msg: string }) });
  return log;
}

function tapLine(subject: string, seq: number): object {
  return { msg: 'tap', tap: { id: `id-${seq}`, seq, subject, result: 'accepted', reason: 'ok' } };
}

const opened = (seq: number) => ({ msg: 'barrier opened for tap', seq, id: `id-${seq}` });
const barrier = (state: 'open' | 'closed') => ({ msg: 'sim barrier', barrier: state });
const unjournaled = (subject: string) => ({ msg: 'tap not journaled', draft: { subject }, err: 'database or disk is full' });
const rows = (...seqs: number[]): JournalRow[] => seqs.map((seq) => ({ seq, id: `id-${seq}`, subject: `s${seq}` }));

describe('the disk-fault audit catches what it must', () => {
  it('passes a gate that refused without a row and opened only after commits', () => {
    const log = logOf([opened(1), barrier('open'), tapLine('s1', 1), unjournaled('x'), barrier('closed'), opened(2), barrier('open'), tapLine('s2', 2)]);
    const audit = auditTaps({ presented: ['s1', 'x', 's2'], runs: [log], journal: rows(1, 2), collected: rows(1, 2) });
    expect(audit).toEqual({ committed: 2, unjournaled: 1, barrierWithoutRow: [], lost: [], problems: [] });
  });

  it('flags a barrier opened after an unjournaled code, and one opened for a seq the journal lacks', () => {
    const log = logOf([unjournaled('x'), barrier('open'), barrier('closed'), opened(1), barrier('open'), tapLine('s1', 1)]);
    const audit = auditTaps({ presented: ['x', 's1'], runs: [log], journal: [], collected: [] });
    expect(audit.barrierWithoutRow).toEqual([expect.stringContaining('after "tap not journaled"'), expect.stringContaining('seq 1')]);
    expect(audit.lost).toEqual([expect.stringContaining('seq 1')]);
  });

  it('flags a seq burned by a failed commit, a code without an outcome, a refused code that landed, a tap the collector lacks', () => {
    const log = logOf([tapLine('s1', 1), unjournaled('s2'), tapLine('s3', 3)]);
    const journal = [...rows(1, 3), { seq: 2, id: 'id-2', subject: 's2' }].sort((a, b) => a.seq - b.seq);
    const audit = auditTaps({ presented: ['s1', 's2', 's3', 'silent'], runs: [log], journal, collected: rows(1) });
    expect(audit.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('seq 3 logged after seq 1'),
        expect.stringContaining('code silent: 0 outcomes'),
        expect.stringContaining('code s2: logged "tap not journaled" but the journal has it'),
        expect.stringContaining('journal row seq 2 id id-2 was never logged'),
      ]),
    );
    expect(audit.lost).toEqual([expect.stringContaining('seq 2'), expect.stringContaining('seq 3')]);
  });
});

describe('a refusal to start is judged by what a technician reads', () => {
  const dir = '/var/lib/citygate';

  it('accepts one line naming the state directory and the cause, with a non-zero exit', () => {
    expect(judgeRefusal(2, `citygate: cannot open the journal ${dir}/journal.db: the file system is read-only (EROFS)`, dir, READ_ONLY)).toBe('refused-to-start');
    expect(judgeRefusal(2, `citygate: ${dir}: no space left on the device`, dir, FULL)).toBe('refused-to-start');
  });

  it('calls a stack trace a crash, and a wrong or missing cause unclear', () => {
    expect(judgeRefusal(2, `citygate: internal error: JournalError: cannot open journal ${dir}/journal.db: disk I/O error\n    at Journal.open (journal.js:52:19)`, dir, FULL)).toBe('crashed');
    expect(judgeRefusal(2, `citygate: cannot create the state directory ${dir}: ENOENT`, dir, READ_ONLY)).toBe('unclear-message');
    expect(judgeRefusal(0, `citygate: ${dir} is read-only`, dir, READ_ONLY)).toBe('unclear-message');
  });
});

describe('disk faults: the real daemon on a full tmpfs and a read-only card', () => {
  let figures: DiskFaultFigures;

  beforeAll(async () => {
    figures = await runDiskFaults(SHORT_DISK_FAULTS);
    console.log(JSON.stringify(figures, null, 2));
  }, 150_000);

  function scenario(name: string): ServingFigures {
    const found = figures.scenarios.find((s) => s.name === name);
    expect(found, `scenario ${name} ran`).toBeDefined();
    return found!;
  }

  function expectServedThroughTheFault(s: ServingFigures, journalError: RegExp): void {
    expect(s.problems).toEqual([]);
    expect(s.lost).toEqual([]);
    expect(s.barrierWithoutRow).toEqual([]);
    // Each code one outcome: committed (logged, journaled, uploaded) or refused as journal-unavailable.
    expect(s.committed + s.unjournaled).toBe(s.codesPresented);
    expect(s.unjournaled).toBeGreaterThanOrEqual(1);
    expect(s.committed).toBeGreaterThanOrEqual(2 * SHORT_DISK_FAULTS.codesPerPhase);
    expect(s.journalErrors.length).toBeGreaterThan(0);
    for (const error of s.journalErrors) expect(error).toMatch(journalError);
    expect(s.statusAlarms.length).toBeGreaterThan(0);
    expect(s.recoveredAfterMs).toHaveLength(SHORT_DISK_FAULTS.cycles);
  }

  it('disk full: no tap without a row, status failing with the alarm, recovers by itself when space returns, nothing lost', () => {
    expectServedThroughTheFault(scenario('disk-full'), /full/i);
  });

  it('read-only card: no tap without a row, status failing with the alarm, carries on gapless after the repair, nothing lost', () => {
    expectServedThroughTheFault(scenario('read-only-card'), /disk I\/O error|read-?only/i);
  });

  it('started on a read-only or full disk: a message naming the path and the cause, or journal-unavailable refusals; never a stack trace', () => {
    expect(figures.startOnBadDisk.map((c) => c.case)).toEqual(['read-only, journal of an earlier run', 'full, journal of an earlier run', 'read-only, empty (first start)']);
    const bad = figures.startOnBadDisk.filter((c) => c.outcome !== 'refused-to-start' && c.outcome !== 'serves-refusals');
    expect(bad).toEqual([]);
  });

  it('in all: no barrier without its row, nothing lost, no problem', () => {
    expect(figures.barrierWithoutRow).toEqual([]);
    expect(figures.lost).toEqual([]);
    expect(figures.problems).toEqual([]);
    expect(figures.codesPresented).toBe(figures.committed + figures.unjournaled);
  });

  it('leaves no mount or loop device behind', () => {
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain('citygate-disk-');
    expect(execFileSync('losetup', ['-a'], { encoding: 'utf8' })).not.toContain('citygate-disk-');
  });
});
