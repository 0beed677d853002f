import type { Log } from '../../../src/core/log.js';
import type { DenySnapshots, SignedSnapshotPart } from './denySnapshots.js';

/** Why a snapshot went out: a gate's resync request, or its status showing it behind. */
export type AnswerCause = 'resync' | 'status';

/** One issuer's snapshot at most this often: every gate subscribed to the issuer gets each one, so one answers all that asked meanwhile. */
export const MIN_INTERVAL_MS = 2_000;

interface IssuerAnswers {
  /** Gates that asked since the last snapshot went out, with the first cause. */
  waiting: Map<string, AnswerCause>;
  sending: boolean;
  timer: NodeJS.Timeout | undefined;
  lastSentMs: number;
}

/**
 * Answers gates that lag on an issuer's deny list with the whole list at the
 * seq the fleet holds. Requests for one issuer are coalesced: a snapshot goes
 * to every gate subscribed, so at most one per issuer per MIN_INTERVAL_MS,
 * however many gates ask (a city's gates after a broker restart). A publish
 * that fails is retried on the next request; the gate asks again.
 */
export class ResyncAnswers {
  private readonly issuers = new Map<string, IssuerAnswers>();
  private stopped = false;

  constructor(
    private readonly snapshots: DenySnapshots,
    private readonly publish: (part: SignedSnapshotPart) => Promise<void>,
    private readonly log: Log,
    private readonly onSent: (issuer: string, seq: number, causes: Map<string, AnswerCause>) => void,
    private readonly minIntervalMs = MIN_INTERVAL_MS,
  ) {}

  /** `gate` lags on `issuer`: send the snapshot soon (at once unless one just went out). */
  ask(issuer: string, gate: string, cause: AnswerCause): void {
    if (this.stopped) return;
    let answers = this.issuers.get(issuer);
    if (!answers) {
      answers = { waiting: new Map(), sending: false, timer: undefined, lastSentMs: -Infinity };
      this.issuers.set(issuer, answers);
    }
    if (!answers.waiting.has(gate)) answers.waiting.set(gate, cause);
    this.schedule(issuer, answers);
  }

  private schedule(issuer: string, answers: IssuerAnswers): void {
    if (answers.sending || answers.timer || answers.waiting.size === 0 || this.stopped) return;
    const delay = Math.max(0, answers.lastSentMs + this.minIntervalMs - Date.now());
    answers.timer = setTimeout(() => {
      answers.timer = undefined;
      void this.send(issuer, answers);
    }, delay);
  }

  private async send(issuer: string, answers: IssuerAnswers): Promise<void> {
    const causes = answers.waiting;
    answers.waiting = new Map();
    answers.sending = true;
    try {
      const snapshot = this.snapshots.sign(issuer, Math.floor(Date.now() / 1000));
      if (!snapshot) {
        this.log.warn({ issuer, gates: [...causes.keys()].slice(0, 10) }, 'resync asked for an issuer without a deny list in this directory: nothing to send');
        return;
      }
      for (const part of snapshot.parts) {
        // A push committed meanwhile carries its own retained snapshot: an older one must not replace it.
        if (part.retain && this.snapshots.held(issuer) !== snapshot.seq) return;
        await this.publish(part);
      }
      answers.lastSentMs = Date.now();
      this.log.info({ issuer, seq: snapshot.seq, parts: snapshot.parts.length, gates: causes.size, first: [...causes.keys()].slice(0, 10) }, 'deny-list snapshot sent to lagging gates');
      this.onSent(issuer, snapshot.seq, causes);
    } catch (error) {
      this.log.error({ issuer, err: (error as Error).message }, 'deny-list snapshot not sent; the gates ask again');
    } finally {
      answers.sending = false;
      this.schedule(issuer, answers);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const answers of this.issuers.values()) clearTimeout(answers.timer);
  }
}
