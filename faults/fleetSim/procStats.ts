import { readFileSync, readdirSync } from 'node:fs';

/** Linux's USER_HZ: /proc/PID/stat counts CPU time in these ticks (100 on every Linux this runs on). */
const TICKS_PER_SECOND = 100;

export interface ProcSample {
  /** CPU seconds used so far (user + system), with those of children it waited for. */
  cpuSec: number;
  rssMB: number;
}

/**
 * One process's CPU and RSS from /proc; undefined once it is gone.
 * `waited`: add the CPU of children it reaped (a postmaster's ended backends);
 * not for a process whose reaped children are counted apart.
 */
export function sampleProcess(pid: number, waited = true): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (waited ? [11, 12, 13, 14] : [11, 12]).reduce((sum, i) => sum + Number(fields[i]), 0);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { cpuSec: ticks / TICKS_PER_SECOND, rssMB: rssKB / 1024 };
  } catch {
    return undefined;
  }
}

/** The direct children of a process, from /proc/PID/task/TID/children. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) children.push(...text.split(' ').map(Number));
    }
  } catch {
    // Gone meanwhile: no children to count.
  }
  return children;
}

export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    return '';
  }
}

/** A process and every descendant, summed: PostgreSQL is a postmaster and a backend per connection. */
export function sampleTree(pid: number): ProcSample | undefined {
  const root = sampleProcess(pid);
  if (!root) return undefined;
  const total = { ...root };
  const stack = childrenOf(pid);
  while (stack.length > 0) {
    const child = stack.pop()!;
    const sample = sampleProcess(child);
    if (!sample) continue;
    total.cpuSec += sample.cpuSec;
    total.rssMB += sample.rssMB;
    stack.push(...childrenOf(child));
  }
  return total;
}
