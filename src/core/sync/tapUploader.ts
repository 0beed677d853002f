import { z } from 'zod';
import type { Journal } from '../journal.js';
import type { Log } from '../log.js';
import { AckTimeout } from './ackTimeout.js';

export interface UploaderOptions {
  /** Taps per batch message. */
  batchSize: number;
  /** Batches sent and not yet acknowledged. */
  window: number;
  /** The ack timeout until the gate has measured ack round trips; then it adapts to them (docs/sync.md, "Taps"). */
  ackTimeoutMs: number;
  /** Lower bound of the adaptive timeout; default 1 s (or `ackTimeoutMs` if that is less). */
  minAckTimeoutMs?: number;
  /** Upper bound, also of the backoff; default 60 s (or `ackTimeoutMs` if that is more). */
  maxAckTimeoutMs?: number;
}

export const DEFAULT_UPLOADER: UploaderOptions = { batchSize: 500, window: 8, ackTimeoutMs: 10_000 };

/** Time and chance as the uploader uses them; tests pass a fake one. */
export interface UploaderClock {
  now(): number;
  /** Uniform in [0, 1). */
  random(): number;
  /** Runs `run` after `ms`; returns what cancels it. */
  after(ms: number, run: () => void): () => void;
}

export const REAL_UPLOADER_CLOCK: UploaderClock = {
  now: Date.now,
  random: Math.random,
  after(ms, run) {
    const timer = setTimeout(run, ms);
    // The link's stop ends the uploader's timers through the disconnect; this one must not hold a process either way.
    timer.unref();
    return () => clearTimeout(timer);
  },
};

const ackSchema = z.object({ upTo: z.number().int().nonnegative() });

/** Never rejects: a batch that does not get through is sent again after the ack timeout. */
type Publish = (payload: string) => Promise<void>;

/** Journal meta key: the highest seq this gate has handed to the broker, kept across restarts (a tick behind at most). */
const PUBLISHED_KEY = 'published_seq';

/**
 * Sends the journal's backlog as batches (docs/sync.md) and moves the
 * delivered mark only on the collector's ack. Anything not acknowledged is
 * sent again after a reconnect or a timeout; the collector dedupes by id.
 *
 * At city scale (docs/sync.md, "Taps"): the ack timeout adapts to the
 * measured round trips; after a timeout the gate pauses a random part of it
 * before sending again, so gates that timed out together do not resend
 * together; and taps wait to go together while a resend is pending or an ack
 * is late, rather than each going alone to wait for an ack.
 *
 * An ack is believed only for taps this gate has published: a tap never
 * handed to the broker cannot have been stored, so an ack above the highest
 * seq published is taken only up to it and logged (docs/sync.md, "Taps").
 */
export class TapUploader {
  private online = false;
  /** Highest seq handed to the broker since the last (re)start from the delivered mark. */
  private sentUpTo: number;
  /** `again`: the batch holds taps published before, so its ack does not say which sending it answers. */
  private inFlight: { upTo: number; sentAt: number; again: boolean }[] = [];
  private pumping = false;
  /**
   * Highest seq ever handed to the MQTT client to publish: never lowered by a
   * resend, kept across reconnects, and across restarts through the journal
   * (written after the fact, so it can lag, never lead).
   */
  private publishedUpTo: number;
  private persistedPublished: number;
  private persistFailing = false;
  private readonly ackTimeout: AckTimeout;
  /** When the ack timer of the batches in flight started: the first send into an empty window, or the last ack that moved the mark. */
  private timerFrom = 0;
  private cancelAckTimer: (() => void) | undefined;
  /** Set while a resend waits out its pause; taps wait with it. */
  private cancelResend: (() => void) | undefined;
  /**
   * After a timeout, only the oldest batch goes again (up to this seq), as a
   * probe: the rest waits for its ack, so a collector stall costs one batch
   * resent per timeout, not everything held (docs/sync.md, "At city scale").
   */
  private probeUpTo: number | undefined;
  /**
   * Set while an ask is out: after a reconnect with taps published and not
   * acked, the gate first asks the collector how far it has them (a batch
   * without taps) and sends again only what is missing. The broker may have
   * lost the acks rather than the taps: the stored ones do not go twice
   * (docs/sync.md, "Asks").
   */
  private cancelAsk: (() => void) | undefined;

  constructor(
    private readonly journal: Journal,
    private readonly gate: string,
    private readonly publish: Publish,
    private readonly log: Log,
    private readonly options: UploaderOptions = DEFAULT_UPLOADER,
    private readonly clock: UploaderClock = REAL_UPLOADER_CLOCK,
  ) {
    this.sentUpTo = journal.deliveredSeq();
    const kept = Number(journal.metaValue(PUBLISHED_KEY) ?? 0);
    this.persistedPublished = Number.isSafeInteger(kept) ? kept : 0;
    this.publishedUpTo = Math.min(Math.max(this.persistedPublished, this.sentUpTo), journal.lastTapSeq());
    const initialMs = options.ackTimeoutMs;
    this.ackTimeout = new AckTimeout({
      initialMs,
      minMs: options.minAckTimeoutMs ?? Math.min(1_000, initialMs),
      maxMs: options.maxAckTimeoutMs ?? Math.max(60_000, initialMs),
    });
  }

  connected(): void {
    this.online = true;
    if (this.publishedUpTo > this.journal.deliveredSeq()) this.ask();
    else this.restartFromMark('connected');
  }

  disconnected(): void {
    this.online = false;
    this.inFlight = [];
    this.stopTimers();
    // A clean stop closes the link before the journal: what went out is kept for the next start.
    this.persistPublished();
  }

  /** A tap was committed: send it if the window allows. */
  nudge(): void {
    void this.pump();
  }

  /** Called periodically (each second): the published mark is kept. */
  tick(): void {
    this.persistPublished();
  }

  onAck(payload: Buffer): void {
    let ack: { upTo: number };
    try {
      const parsed = ackSchema.safeParse(JSON.parse(payload.toString('utf8')));
      if (!parsed.success) throw new Error(parsed.error.issues[0]!.message);
      ack = parsed.data;
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'tap ack ignored: not {"upTo": seq}');
      return;
    }
    if (this.cancelAsk) return this.answered(ack.upTo);
    this.acknowledged(ack.upTo);
  }

  /** The collector says how far it has this gate's taps: the mark moves, and what it lacks goes again from there. */
  private answered(ackUpTo: number): void {
    const upTo = this.believed(ackUpTo);
    if (upTo !== undefined) this.journal.markDelivered(upTo);
    this.restartFromMark('connected');
  }

  private acknowledged(ackUpTo: number): void {
    const upTo = this.believed(ackUpTo);
    if (upTo === undefined) return;
    this.journal.markDelivered(upTo);
    const now = this.clock.now();
    const answered = this.inFlight.filter((batch) => batch.upTo <= upTo).at(-1);
    if (answered && !answered.again) this.ackTimeout.measured(now - answered.sentAt);
    this.inFlight = this.inFlight.filter((batch) => batch.upTo > upTo);
    if (this.sentUpTo < upTo) this.sentUpTo = upTo;
    // The collector answers: a pending resend is dropped, a probe has done its work, and what is still out gets a full timeout from now.
    this.cancelResend?.();
    this.cancelResend = undefined;
    this.probeUpTo = undefined;
    this.timerFrom = now;
    this.armAckTimer();
    void this.pump();
  }

  /** How far an ack moves the delivered mark; undefined when it does not. */
  private believed(ackUpTo: number): number | undefined {
    const held = this.journal.deliveredSeq();
    if (ackUpTo <= held) return undefined;
    if (ackUpTo > this.journal.lastTapSeq()) {
      this.log.warn({ upTo: ackUpTo, lastSeq: this.journal.lastTapSeq() }, 'tap ack ignored: above the last tap');
      return undefined;
    }
    // Taps never handed to the broker cannot be stored: such an ack is forged or wrong, and is believed
    // only for what was published (a forger could ack exactly that anyway; a collector that stored more
    // before a crash acks again after each batch resent, so the gate still gets there).
    if (ackUpTo > this.publishedUpTo) {
      this.log.warn({ upTo: ackUpTo, published: this.publishedUpTo, delivered: held }, 'tap ack above what this gate has published: taken only up to the published seq');
      return this.publishedUpTo > held ? this.publishedUpTo : undefined;
    }
    return ackUpTo;
  }

  /** Send again from the delivered mark: everything (a new connection), or only up to `probeUpTo` (an ack timeout). */
  private restartFromMark(why: string, probeUpTo?: number): void {
    const mark = this.journal.deliveredSeq();
    if (this.sentUpTo > mark) this.log.info({ from: mark + 1, why, ...(probeUpTo !== undefined ? { probeUpTo } : {}) }, 'sending taps again from the delivered mark');
    this.sentUpTo = mark;
    this.probeUpTo = probeUpTo;
    this.inFlight = [];
    this.stopTimers();
    void this.pump();
  }

  private stopTimers(): void {
    this.cancelAckTimer?.();
    this.cancelAckTimer = undefined;
    this.cancelResend?.();
    this.cancelResend = undefined;
    this.cancelAsk?.();
    this.cancelAsk = undefined;
  }

  /**
   * A batch without taps: the collector answers with an ack of how far it has
   * them (docs/sync.md, "Asks"). Unanswered within the ack timeout (no
   * collector yet, or one from before asks, which drops it), everything from
   * the mark goes again, as it did before asks.
   */
  private ask(): void {
    this.inFlight = [];
    this.stopTimers();
    this.log.info({ delivered: this.journal.deliveredSeq(), published: this.publishedUpTo }, 'asking the collector how far it has the taps sent before');
    this.cancelAsk = this.clock.after(this.ackTimeout.currentMs(), () => {
      this.cancelAsk = undefined;
      this.restartFromMark('no answer to the ask');
    });
    void this.publish(JSON.stringify({ gate: this.gate, delivered: this.journal.deliveredSeq(), taps: [] }));
  }

  /** (Re)arms the one timer that watches the batches in flight. */
  private armAckTimer(): void {
    this.cancelAckTimer?.();
    this.cancelAckTimer = undefined;
    if (!this.online || this.inFlight.length === 0 || this.cancelResend) return;
    const dueIn = this.timerFrom + this.ackTimeout.currentMs() - this.clock.now();
    this.cancelAckTimer = this.clock.after(Math.max(0, dueIn), () => this.ackTimerFired());
  }

  private ackTimerFired(): void {
    this.cancelAckTimer = undefined;
    if (!this.online || this.inFlight.length === 0 || this.cancelResend) return;
    const expiredMs = this.ackTimeout.currentMs();
    if (this.clock.now() - this.timerFrom < expiredMs) return this.armAckTimer();
    this.ackTimeout.timedOut();
    const oldest = this.inFlight[0]!.upTo;
    // A random part of the timeout that expired: gates whose acks all stopped at once (a collector stall) resend spread out.
    const pauseMs = Math.round(this.clock.random() * (expiredMs / 2));
    this.log.info({ timeoutMs: expiredMs, pauseMs, nextTimeoutMs: this.ackTimeout.currentMs() }, 'tap ack timeout: sending again from the delivered mark after a pause');
    this.cancelResend = this.clock.after(pauseMs, () => {
      this.cancelResend = undefined;
      this.restartFromMark('ack timeout', oldest);
    });
  }

  /** The oldest batch in flight has waited longer than acks have taken so far. */
  private ackLate(): boolean {
    const oldest = this.inFlight[0];
    const lateAfter = this.ackTimeout.lateAfterMs();
    return oldest !== undefined && lateAfter !== undefined && this.clock.now() - oldest.sentAt > lateAfter;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.online && !this.cancelResend && !this.cancelAsk && this.inFlight.length < this.options.window) {
        const probing = this.probeUpTo !== undefined;
        // A probe goes alone; what follows it waits for its ack.
        if (probing && this.inFlight.length > 0) break;
        const size = probing ? Math.max(1, Math.min(this.options.batchSize, this.probeUpTo! - this.sentUpTo)) : this.options.batchSize;
        const taps = this.journal.taps(this.sentUpTo, size);
        if (taps.length === 0) break;
        // A short batch waits while an ack is late: the taps go together when it comes.
        if (!probing && taps.length < this.options.batchSize && this.ackLate()) break;
        const upTo = taps[taps.length - 1]!.seq;
        const again = taps[0]!.seq <= this.publishedUpTo;
        this.sentUpTo = upTo;
        if (upTo > this.publishedUpTo) this.publishedUpTo = upTo;
        const now = this.clock.now();
        if (this.inFlight.length === 0) this.timerFrom = now;
        this.inFlight.push({ upTo, sentAt: now, again });
        if (!this.cancelAckTimer) this.armAckTimer();
        // Not awaited: the window, not the PUBACK, paces the batches. The mark tells a collector that never
        // heard of this gate where its range starts, even when earlier batches of the window were lost.
        void this.publish(JSON.stringify({ gate: this.gate, delivered: this.journal.deliveredSeq(), taps }));
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'tap upload stopped: journal read failed');
    } finally {
      this.pumping = false;
    }
  }

  /** Keep the published mark in the journal: from the periodic tick and at a disconnect, never on a tap's commit. */
  private persistPublished(): void {
    if (this.publishedUpTo <= this.persistedPublished) return;
    try {
      this.journal.setMetaValue(PUBLISHED_KEY, String(this.publishedUpTo));
      this.persistedPublished = this.publishedUpTo;
      this.persistFailing = false;
    } catch (error) {
      // Only costs speed after a restart (a collector's ack is then taken batch by batch): nothing is lost.
      if (!this.persistFailing) this.log.warn({ err: (error as Error).message }, 'published tap mark not kept');
      this.persistFailing = true;
    }
  }
}
