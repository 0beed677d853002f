import type { Outcome } from './target.js';

/** An input slower than this counts as `slow` (a parser that nearly hangs). */
export const SLOW_MS = 1000;
/** Inputs kept per list (crashes, violations, forgeries, slow) per target, so that one bug does not flood the figures. */
const KEPT_PER_TARGET = 20;
const TOP_REASONS = 16;

export interface TargetFigures {
  name: string;
  inputs: number;
  accepted: number;
  refused: number;
  /** The commonest refusal reasons, with their counts. */
  reasons: Record<string, number>;
  /** How many distinct reasons there were in all. */
  distinctReasons: number;
  crashes: number;
  violations: number;
  forgeries: number;
  slow: number;
  maxMs: number;
  durationMs: number;
}

/** One input that broke a contract; `input` is the target's encoding, replayable with replayFuzzInput. */
export interface InputRecord {
  target: string;
  input: string;
}

export interface CrashRecord extends InputRecord {
  error: string;
}

export interface ViolationRecord extends InputRecord {
  problem: string;
}

export interface ForgeryRecord extends InputRecord {
  detail: string;
}

export interface SlowRecord extends InputRecord {
  ms: number;
}

export interface FuzzFigures {
  seed: number;
  inputs: number;
  targets: TargetFigures[];
  crashes: CrashRecord[];
  violations: ViolationRecord[];
  forgeries: ForgeryRecord[];
  slow: SlowRecord[];
  durationMs: number;
}

/** Counts what one target did with its inputs, and keeps the inputs that broke something. */
export class TargetTally {
  private inputs = 0;
  private accepted = 0;
  private refused = 0;
  private crashCount = 0;
  private violationCount = 0;
  private forgeryCount = 0;
  private slowCount = 0;
  private maxMs = 0;
  private readonly reasons = new Map<string, number>();
  readonly crashes: CrashRecord[] = [];
  readonly violations: ViolationRecord[] = [];
  readonly forgeries: ForgeryRecord[] = [];
  readonly slow: SlowRecord[] = [];

  constructor(private readonly name: string) {}

  record(outcome: Outcome, ms: number, encoded: () => string): void {
    this.inputs++;
    this.maxMs = Math.max(this.maxMs, ms);
    if (ms > SLOW_MS) {
      this.slowCount++;
      if (this.slow.length < KEPT_PER_TARGET) this.slow.push({ target: this.name, input: encoded(), ms: Math.round(ms) });
    }
    switch (outcome.kind) {
      case 'accepted':
        this.accepted++;
        if (outcome.forgery !== undefined) {
          this.forgeryCount++;
          if (this.forgeries.length < KEPT_PER_TARGET) this.forgeries.push({ target: this.name, input: encoded(), detail: outcome.forgery });
        }
        return;
      case 'refused':
        this.refused++;
        this.reasons.set(outcome.reason, (this.reasons.get(outcome.reason) ?? 0) + 1);
        return;
      case 'crash':
        this.crashCount++;
        if (this.crashes.length < KEPT_PER_TARGET) this.crashes.push({ target: this.name, input: encoded(), error: outcome.error });
        return;
      case 'violation':
        this.violationCount++;
        if (this.violations.length < KEPT_PER_TARGET) this.violations.push({ target: this.name, input: encoded(), problem: outcome.problem });
        return;
    }
  }

  figures(durationMs: number): TargetFigures {
    const top = [...this.reasons].sort((a, b) => b[1] - a[1]).slice(0, TOP_REASONS);
    return {
      name: this.name,
      inputs: this.inputs,
      accepted: this.accepted,
      refused: this.refused,
      reasons: Object.fromEntries(top),
      distinctReasons: this.reasons.size,
      crashes: this.crashCount,
      violations: this.violationCount,
      forgeries: this.forgeryCount,
      slow: this.slowCount,
      maxMs: Math.round(this.maxMs * 10) / 10,
      durationMs: Math.round(durationMs),
    };
  }
}
