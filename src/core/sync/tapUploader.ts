import { z } from 'zod';
import type { Journal } from '../journal.js';
import type { Log } from '../log.js';

export interface UploaderOptions {
  /** Taps per batch message. */
  batchSize: number;
  /** Batches sent and not yet acknowledged. */
  window: number;
  /** Without an ack for this long, send again from the delivered mark. */
  ackTimeoutMs: number;
}

export const DEFAULT_UPLOADER: UploaderOptions = { batchSize: 500, window: 8, ackTimeoutMs: 10_000 };

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
 * An ack is believed only for taps this gate has published: a tap never
 * handed to the broker cannot have been stored, so an ack above the highest
 * seq published is taken only up to it and logged (docs/sync.md, "Taps").
 */
export class TapUploader {
  private online = false;
  /** Highest seq handed to the broker since the last (re)start from the delivered mark. */
  private sentUpTo: number;
  private inFlight: { upTo: number; sentAt: number }[] = [];
  private pumping = false;
  /**
   * Highest seq ever handed to the MQTT client to publish: never lowered by a
   * resend, kept across reconnects, and across restarts through the journal
   * (written after the fact, so it can lag, never lead).
   */
  private publishedUpTo: number;
  private persistedPublished: number;
  private persistFailing = false;

  constructor(
    private readonly journal: Journal,
    private readonly gate: string,
    private readonly publish: Publish,
    private readonly log: Log,
    private readonly options: UploaderOptions = DEFAULT_UPLOADER,
    private readonly now: () => number = Date.now,
  ) {
    this.sentUpTo = journal.deliveredSeq();
    const kept = Number(journal.metaValue(PUBLISHED_KEY) ?? 0);
    this.persistedPublished = Number.isSafeInteger(kept) ? kept : 0;
    this.publishedUpTo = Math.min(Math.max(this.persistedPublished, this.sentUpTo), journal.lastTapSeq());
  }

  connected(): void {
    this.online = true;
    this.restartFromMark('connected');
  }

  disconnected(): void {
    this.online = false;
    this.inFlight = [];
    // A clean stop closes the link before the journal: what went out is kept for the next start.
    this.persistPublished();
  }

  /** A tap was committed: send it if the window allows. */
  nudge(): void {
    void this.pump();
  }

  /** Called periodically (each second): the published mark is kept, and an unacknowledged batch past the timeout is sent again. */
  checkTimeout(): void {
    this.persistPublished();
    const oldest = this.inFlight[0];
    if (this.online && oldest && this.now() - oldest.sentAt > this.options.ackTimeoutMs) this.restartFromMark('ack timeout');
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
    const held = this.journal.deliveredSeq();
    if (ack.upTo <= held) return;
    if (ack.upTo > this.journal.lastTapSeq()) {
      this.log.warn({ upTo: ack.upTo, lastSeq: this.journal.lastTapSeq() }, 'tap ack ignored: above the last tap');
      return;
    }
    // Taps never handed to the broker cannot be stored: such an ack is forged or wrong, and is believed
    // only for what was published (a forger could ack exactly that anyway; a collector that stored more
    // before a crash acks again after each batch resent, so the gate still gets there).
    let upTo = ack.upTo;
    if (upTo > this.publishedUpTo) {
      this.log.warn({ upTo, published: this.publishedUpTo, delivered: held }, 'tap ack above what this gate has published: taken only up to the published seq');
      upTo = this.publishedUpTo;
      if (upTo <= held) return;
    }
    this.journal.markDelivered(upTo);
    this.inFlight = this.inFlight.filter((batch) => batch.upTo > upTo);
    if (this.sentUpTo < upTo) this.sentUpTo = upTo;
    void this.pump();
  }

  private restartFromMark(why: string): void {
    const mark = this.journal.deliveredSeq();
    if (this.sentUpTo > mark) this.log.info({ from: mark + 1, why }, 'sending taps again from the delivered mark');
    this.sentUpTo = mark;
    this.inFlight = [];
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.online && this.inFlight.length < this.options.window) {
        const taps = this.journal.taps(this.sentUpTo, this.options.batchSize);
        if (taps.length === 0) break;
        const upTo = taps[taps.length - 1]!.seq;
        this.sentUpTo = upTo;
        if (upTo > this.publishedUpTo) this.publishedUpTo = upTo;
        this.inFlight.push({ upTo, sentAt: this.now() });
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
