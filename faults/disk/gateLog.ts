import type { Tap, TapDraft } from '../../src/core/tap.js';

/** One line of the daemon's pino JSON log, numbered in stdout order. */
export interface LogLine {
  msg: string;
  time: number;
  index: number;
  [key: string]: unknown;
}

/** What the daemon said about one presented code. */
export type CodeOutcome = { type: 'tap'; tap: Tap; line: LogLine } | { type: 'unjournaled'; draft: TapDraft; err: string; line: LogLine };

/**
 * A gate's stdout, line by line in the order written, with the outcome of
 * each code indexed by the code's subject (the harness makes one subject per code).
 */
export class GateLog {
  readonly lines: LogLine[] = [];
  readonly outcomes = new Map<string, CodeOutcome[]>();

  /** One line as pino wrote it, parsed. */
  add(parsed: { msg: string; [key: string]: unknown }): void {
    const line: LogLine = { time: 0, ...parsed, index: this.lines.length };
    this.lines.push(line);
    this.noteOutcome(line);
  }

  has(msg: string, after = -1): boolean {
    return this.find(msg, after) !== undefined;
  }

  find(msg: string, after = -1): LogLine | undefined {
    return this.lines.find((line) => line.msg === msg && line.index > after);
  }

  private noteOutcome(line: LogLine): void {
    let outcome: CodeOutcome | undefined;
    if (line.msg === 'tap') outcome = { type: 'tap', tap: line.tap as Tap, line };
    else if (line.msg === 'tap not journaled') outcome = { type: 'unjournaled', draft: line.draft as TapDraft, err: String(line.err), line };
    const subject = outcome?.type === 'tap' ? outcome.tap.subject : outcome?.draft.subject;
    if (!outcome || subject === null || subject === undefined) return;
    this.outcomes.set(subject, [...(this.outcomes.get(subject) ?? []), outcome]);
  }
}
