/** The bounds of the adaptive ack timeout (docs/sync.md, "Taps"). */
export interface AckTimeoutBounds {
  /** Until a round trip has been measured. */
  initialMs: number;
  minMs: number;
  maxMs: number;
}

/** Doublings after which the timeout is at its bound anyway; keeps 2^n finite. */
const MAX_BACKOFFS = 16;

/**
 * How long a tap batch may wait for its ack: TCP's retransmission timeout
 * (RFC 6298). Smoothed round trip plus four mean deviations, within bounds;
 * doubled after each timeout and kept doubled until a round trip is measured
 * again, so a collector that slowed down is not flooded with resends.
 */
export class AckTimeout {
  private srttMs: number | undefined;
  private rttvarMs = 0;
  private backoffs = 0;

  constructor(private readonly bounds: AckTimeoutBounds) {}

  /** The round trip of a batch sent once; never of a batch sent again, whose ack may answer either sending (Karn). */
  measured(rttMs: number): void {
    if (this.srttMs === undefined) {
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
    } else {
      this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - rttMs);
      this.srttMs = 0.875 * this.srttMs + 0.125 * rttMs;
    }
    this.backoffs = 0;
  }

  timedOut(): void {
    this.backoffs = Math.min(this.backoffs + 1, MAX_BACKOFFS);
  }

  /** The timeout in force now. */
  currentMs(): number {
    const { initialMs, minMs, maxMs } = this.bounds;
    const base = this.srttMs === undefined ? initialMs : Math.min(Math.max(this.srttMs + 4 * this.rttvarMs, minMs), maxMs);
    return Math.min(base * 2 ** this.backoffs, maxMs);
  }

  /**
   * Waiting longer than this, an ack is later than the round trips seen so far (unbounded, so well before the
   * timeout); undefined before any was measured.
   */
  lateAfterMs(): number | undefined {
    return this.srttMs === undefined ? undefined : this.srttMs + 4 * this.rttvarMs;
  }
}
