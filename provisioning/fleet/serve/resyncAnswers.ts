import type { Log } from '../../../src/core/log.js';

/** Why a list went out: a gate's resync request, or its status showing it behind. */
export type AnswerCause = 'resync' | 'status';

/** One issuer's snapshot, or one list, at most this often: every gate subscribed gets each one, so one answers all that asked meanwhile. */
export const MIN_INTERVAL_MS = 2_000;

/** One signed message, ready to publish. */
export interface ListMessage {
  topic: string;
  payload: Uint8Array;
  retain: boolean;
}

/** Where the messages of a list come from: the deny lists by issuer (DenySnapshots), the trust and revocation lists by name (KeptLists). */
export interface ListSource<L extends string = string> {
  /** The seq the fleet holds now. */
  held(list: L): number;
  /** The messages that bring a gate to the seq held, or undefined when there is none to send. */
  messages(list: L, nowSec: number): { seq: number; parts: ListMessage[] } | undefined;
}

export interface ResyncAnswersOptions<L extends string> {
  source: ListSource<L>;
  publish(message: ListMessage): Promise<void>;
  log: Log;
  /** For the log lines: what goes out ("deny-list snapshot", "trust list") and the field that names the list ("issuer"). */
  what(list: L): string;
  field: string;
  onSent(list: L, seq: number, causes: Map<string, AnswerCause>): void;
  /** The publish failed (the broker went away): the gates that were waiting for it, with their causes. */
  onFailed(list: L, causes: Map<string, AnswerCause>): void;
  minIntervalMs?: number;
}

interface ListAnswers {
  /** Gates that asked since the last send, with the first cause. */
  waiting: Map<string, AnswerCause>;
  sending: boolean;
  timer: NodeJS.Timeout | undefined;
  lastSentMs: number;
}

/**
 * Answers gates that lag on a list with the messages that bring them to the
 * seq the fleet holds. Requests for one list are coalesced: its messages go
 * to every gate subscribed, so at most one send per list per
 * MIN_INTERVAL_MS, however many gates ask (a city's gates after a broker
 * restart). A publish that fails goes to onFailed; the next request for the
 * list sends it again.
 */
export class ResyncAnswers<L extends string = string> {
  private readonly lists = new Map<L, ListAnswers>();
  private stopped = false;

  constructor(private readonly options: ResyncAnswersOptions<L>) {}

  /** `gate` lags on `list`: send it soon (at once unless it just went out). */
  ask(list: L, gate: string, cause: AnswerCause): void {
    if (this.stopped) return;
    let answers = this.lists.get(list);
    if (!answers) {
      answers = { waiting: new Map(), sending: false, timer: undefined, lastSentMs: -Infinity };
      this.lists.set(list, answers);
    }
    if (!answers.waiting.has(gate)) answers.waiting.set(gate, cause);
    this.schedule(list, answers);
  }

  private schedule(list: L, answers: ListAnswers): void {
    if (answers.sending || answers.timer || answers.waiting.size === 0 || this.stopped) return;
    const delay = Math.max(0, answers.lastSentMs + (this.options.minIntervalMs ?? MIN_INTERVAL_MS) - Date.now());
    answers.timer = setTimeout(() => {
      answers.timer = undefined;
      void this.send(list, answers);
    }, delay);
  }

  private async send(list: L, answers: ListAnswers): Promise<void> {
    const { source, log, field } = this.options;
    const what = this.options.what(list);
    const causes = answers.waiting;
    answers.waiting = new Map();
    answers.sending = true;
    const first = [...causes.keys()].slice(0, 10);
    try {
      const found = source.messages(list, Math.floor(Date.now() / 1000));
      if (!found) {
        log.warn({ [field]: list, gates: first }, `no ${what} in this directory to send: nothing sent`);
        return;
      }
      for (const part of found.parts) {
        // A push committed meanwhile carries its own retained message: an older one must not replace it.
        if (part.retain && source.held(list) !== found.seq) return;
        await this.options.publish(part);
      }
      answers.lastSentMs = Date.now();
      log.info({ [field]: list, seq: found.seq, parts: found.parts.length, gates: causes.size, first }, `${what} sent to lagging gates`);
      this.options.onSent(list, found.seq, causes);
    } catch (error) {
      log.error({ [field]: list, err: (error as Error).message }, `${what} not sent; it goes out again once the service is back on the broker, or when a gate asks`);
      this.options.onFailed(list, causes);
    } finally {
      answers.sending = false;
      this.schedule(list, answers);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const answers of this.lists.values()) clearTimeout(answers.timer);
  }
}
