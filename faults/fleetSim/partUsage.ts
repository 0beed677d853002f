import { sampleProcess, sampleTree, type ProcSample } from './procStats.js';

export interface PartFigure {
  /** CPU used over the measured window, in % of one core (200 = both cores of this machine). */
  cpuPercent: number;
  cpuSec: number;
  rssMBMax: number;
  rssMBEnd: number;
}

/**
 * CPU and RSS of each part of the rig, sampled from /proc. A part may change
 * process (the broker after its restart): its CPU is the sum over every
 * process it had, each from its first sample in the window to its last.
 */
export class PartUsage {
  private readonly parts = new Map<string, { first: Map<number, number>; last: Map<number, ProcSample>; rssMax: number; rssEnd: number }>();
  private startedAt = 0;
  private stoppedAt = 0;

  start(): void {
    this.startedAt = Date.now();
  }

  stop(): void {
    this.stoppedAt = Date.now();
  }

  /** `tree`: count the process's descendants with it (PostgreSQL's backends). */
  sample(name: string, pid: number | undefined, tree = false): void {
    if (pid === undefined || this.startedAt === 0 || this.stoppedAt !== 0) return;
    const sample = tree ? sampleTree(pid) : sampleProcess(pid, false);
    if (!sample) return;
    const part = this.parts.get(name) ?? { first: new Map(), last: new Map(), rssMax: 0, rssEnd: 0 };
    this.parts.set(name, part);
    if (!part.first.has(pid)) part.first.set(pid, sample.cpuSec);
    part.last.set(pid, sample);
    part.rssMax = Math.max(part.rssMax, sample.rssMB);
    part.rssEnd = sample.rssMB;
  }

  figures(): Record<string, PartFigure> {
    const wallSec = Math.max(1, (this.stoppedAt || Date.now()) - this.startedAt) / 1000;
    const out: Record<string, PartFigure> = {};
    for (const [name, part] of this.parts) {
      let cpuSec = 0;
      for (const [pid, last] of part.last) cpuSec += last.cpuSec - part.first.get(pid)!;
      out[name] = { cpuPercent: round1((cpuSec / wallSec) * 100), cpuSec: round1(cpuSec), rssMBMax: Math.round(part.rssMax), rssMBEnd: Math.round(part.rssEnd) };
    }
    return out;
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
