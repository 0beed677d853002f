import type { Tap } from '../../src/core/tap.js';
import type { LogLine } from '../daemonProcess.js';

/** What a subject's codes were, and so what every tap of it must say. */
export type SubjectKind = 'valid' | 'deny-listed' | 'unknown-issuer' | 'tampered';

export interface SubjectRecord {
  kind: SubjectKind;
  /** The code text, kept for replays (valid codes only). */
  text: string | undefined;
  presentations: number;
}

export type PresentedKind = 'fresh' | 'replay' | 'garbage' | 'unknown-issuer' | 'deny-listed' | 'tampered';

/** Subjects whose acceptance went unseen, kept for replays: the most interesting ones to present again. */
const IN_DOUBT_KEPT = 64;
/** Accepted subjects kept for replays. */
const ACCEPTED_KEPT = 256;

/**
 * Everything one gate was shown over all its runs, and what the harness
 * learnt from its log: which codes it saw accepted (to replay them), which
 * were in flight at a kill (to replay those too), which deny-list snapshot
 * it has held.
 */
export class PresentationLedger {
  readonly subjects = new Map<string, SubjectRecord>();
  readonly presented: Record<PresentedKind, number> = { fresh: 0, replay: 0, garbage: 0, 'unknown-issuer': 0, 'deny-listed': 0, tampered: 0 };
  /** Valid subjects seen accepted in a `tap` line. */
  readonly accepted: string[] = [];
  /** Valid subjects presented in a killed run whose `tap` line never came. */
  inDoubt: string[] = [];
  /** The highest deny-list snapshot the gate has said it holds. */
  heldDenySeq = 0;

  present(kind: PresentedKind, subject: string | undefined, subjectKind: SubjectKind | undefined, text: string): void {
    this.presented[kind]++;
    if (subject === undefined || subjectKind === undefined) return;
    const record = this.subjects.get(subject) ?? { kind: subjectKind, text: subjectKind === 'valid' ? text : undefined, presentations: 0 };
    record.presentations++;
    this.subjects.set(subject, record);
  }

  /** Learn from one log line as it arrives. */
  observe(line: LogLine): void {
    if (line.msg === 'tap') {
      const tap = line.tap as Tap;
      if (tap.result === 'accepted' && tap.subject !== null && this.subjects.get(tap.subject)?.kind === 'valid') {
        this.accepted.push(tap.subject);
        if (this.accepted.length > ACCEPTED_KEPT) this.accepted.shift();
      }
    } else if (line.msg === 'deny-list update') {
      const result = line.result as { status: string; seq?: number; held?: number } | undefined;
      const held = result?.status === 'applied' ? result.seq : result?.status === 'ignored' ? result.held : undefined;
      if (typeof held === 'number') this.heldDenySeq = Math.max(this.heldDenySeq, held);
    }
  }

  /** After a killed run: the valid subjects it was shown and never logged a tap for. */
  afterKilledRun(shown: readonly string[], logged: readonly Tap[]): void {
    const seen = new Set(logged.map((tap) => tap.subject));
    const unseen = shown.filter((subject) => !seen.has(subject) && this.subjects.get(subject)?.kind === 'valid');
    this.inDoubt = [...this.inDoubt, ...unseen].slice(-IN_DOUBT_KEPT);
  }
}
