import { join } from 'node:path';
import { DiskFiller } from './diskFiller.js';
import type { DiskRig } from './diskRig.js';
import { GateProcess } from './gateProcess.js';
import { journalFailing } from './statusWatch.js';
import type { Teardown } from '../teardown.js';
import { TmpfsMount } from './tmpfsMount.js';
import { waitUntil } from '../waitUntil.js';

/**
 * What a gate started on a bad disk did. Either is acceptable:
 * `refused-to-start` (non-zero exit, one message naming the state directory
 * and the cause) or `serves-refusals` (it runs, refuses every code with
 * journal-unavailable, and tells the fleet). `crashed` is a stack trace or an
 * internal error; `unclear-message` a refusal a technician cannot act on;
 * `unsafe` a commit or an opening on a bad disk; `stuck` neither ready nor gone.
 */
export type StartOutcome = 'refused-to-start' | 'serves-refusals' | 'crashed' | 'unclear-message' | 'unsafe' | 'stuck';

export interface StartCase {
  case: string;
  outcome: StartOutcome;
  exitCode: number | null;
  /** What the technician reads: stderr at a refused start, the journal error when serving. */
  message: string;
}

const STACK_TRACE = /^\s+at\s|internal error/m;
export const READ_ONLY = /read-only|EROFS/i;
export const FULL = /full|no space|ENOSPC/i;

/**
 * The gate (re)started by systemd on a card that is read-only or full before
 * it opens anything: with the journal of an earlier run, and a first start on
 * an empty read-only card.
 */
export async function runStartScenarios(rig: DiskRig, teardown: Teardown, sizeMb: number): Promise<StartCase[]> {
  const cases: StartCase[] = [];
  const used = TmpfsMount.mount(join(rig.dir, 'start-used'), sizeMb);
  teardown.add('unmount start-used', () => used.unmount());
  const usedConfig = rig.writeConfig('DISK-START-USED', used.dir);
  await serveOnce(rig, usedConfig);

  used.readOnly();
  cases.push(await startOn(rig, 'read-only, journal of an earlier run', usedConfig, 'DISK-START-USED', used.dir, READ_ONLY));
  used.writable();

  const filler = DiskFiller.fill(used.dir);
  cases.push(await startOn(rig, 'full, journal of an earlier run', usedConfig, 'DISK-START-USED', used.dir, FULL));
  filler.remove();

  const empty = TmpfsMount.mount(join(rig.dir, 'start-empty'), sizeMb);
  teardown.add('unmount start-empty', () => empty.unmount());
  empty.readOnly();
  cases.push(await startOn(rig, 'read-only, empty (first start)', rig.writeConfig('DISK-START-EMPTY', empty.dir), 'DISK-START-EMPTY', empty.dir, READ_ONLY));
  return cases;
}

/** A gate that would not start: did it say, without a stack trace, where (the state directory) and why (`cause`)? */
export function judgeRefusal(exitCode: number | null, message: string, stateDir: string, cause: RegExp): StartOutcome {
  if (STACK_TRACE.test(message)) return 'crashed';
  return exitCode !== 0 && message.includes(stateDir) && cause.test(message) ? 'refused-to-start' : 'unclear-message';
}

/** A normal life before the fault: one tap journaled, a clean stop. */
async function serveOnce(rig: DiskRig, config: string): Promise<void> {
  const gate = new GateProcess(rig.bin, config);
  try {
    await waitUntil(() => gate.has('gate ready') || !gate.alive(), 'the gate ready on a healthy disk');
    gate.scan(rig.code('start-before-fault'));
    await waitUntil(() => gate.outcomes.has('start-before-fault') || !gate.alive(), 'one tap on a healthy disk');
    if (gate.outcomes.get('start-before-fault')?.[0]?.type !== 'tap') throw new Error(`no tap on a healthy disk: ${gate.stderr}`);
    await gate.stop();
  } finally {
    gate.kill();
  }
}

async function startOn(rig: DiskRig, name: string, config: string, gateId: string, stateDir: string, cause: RegExp): Promise<StartCase> {
  const statusMark = rig.status.of(gateId).length;
  const gate = new GateProcess(rig.bin, config);
  try {
    await waitUntil(() => gate.has('gate ready') || !gate.alive(), `${name}: the gate ready or gone`);
    if (!gate.alive()) {
      const exitCode = await gate.exited;
      const message = gate.stderr.trim();
      return { case: name, outcome: judgeRefusal(exitCode, message, stateDir, cause), exitCode, message };
    }
    const subject = `start-${gateId}-${Date.now()}`;
    gate.scan(rig.code(subject));
    await waitUntil(() => gate.outcomes.has(subject) || !gate.alive(), `${name}: an outcome for a code`);
    const outcome = gate.outcomes.get(subject)?.[0];
    if (outcome?.type !== 'unjournaled' || gate.has('barrier opened for tap')) {
      return { case: name, outcome: 'unsafe', exitCode: null, message: `started and ${outcome?.type === 'tap' ? `committed seq ${outcome.tap.seq} on a bad disk` : 'opened the barrier or died'}` };
    }
    await waitUntil(() => rig.status.indexOf(gateId, statusMark, journalFailing) >= 0, `${name}: status with journal "failing" and the alarm`);
    return { case: name, outcome: 'serves-refusals', exitCode: null, message: outcome.err };
  } catch (error) {
    return { case: name, outcome: 'stuck', exitCode: gate.exitCode(), message: `${(error as Error).message}; stderr: ${gate.stderr.trim()}` };
  } finally {
    gate.kill();
    await gate.exited;
  }
}
