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

/**
 * Sends the journal's backlog as batches (docs/sync.md) and moves the
 * delivered mark only on the collector's ack. Anything not acknowledged is
 * sent again after a reconnect or a timeout; the collector dedupes by id.
 */
export class TapUploader {
  private online = false;
  /** Highest seq handed to the broker since the last (re)start from the delivered mark. */
  private sentUpTo: number;
  private inFlight: { upTo: number; sentAt: number }[] = [];
  private pumping = false;

  constructor(
    private readonly journal: Journal,
    private readonly gate: string,
    private readonly publish: Publish,
    private readonly log: Log,
    private readonly options: UploaderOptions = DEFAULT_UPLOADER,
    private readonly now: () => number = Date.now,
  ) {
    this.sentUpTo = journal.deliveredSeq();
  }

  connected(): void {
    this.online = true;
    this.restartFromMark('connected');
  }

  disconnected(): void {
    this.online = false;
    this.inFlight = [];
  }

  /** A tap was committed: send it if the window allows. */
  nudge(): void {
    void this.pump();
  }

  /** Called periodically: an unacknowledged batch past the timeout is sent again. */
  checkTimeout(): void {
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
    this.journal.markDelivered(ack.upTo);
    this.inFlight = this.inFlight.filter((batch) => batch.upTo > ack.upTo);
    if (this.sentUpTo < ack.upTo) this.sentUpTo = ack.upTo;
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
}
