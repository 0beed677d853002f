import { z } from 'zod';

/** Minutes of history kept and shown. */
export const RATE_MINUTES = 30;
/** A tap batch is at most 500 taps (docs/sync.md); a payload past this is not read. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

const batchSchema = z.object({ taps: z.array(z.object({ seq: z.number().int().positive() })).max(500) });

/** Taps per minute per site: the chart of the dashboard. */
export interface TapSeries {
  /** The start of each minute, oldest first (epoch ms). */
  minutes: number[];
  /** Site -> taps in each of those minutes. */
  sites: Record<string, number[]>;
}

/**
 * Counts taps as the gates upload them, read-only beside the collectors. A
 * batch sent again (no ack in time, a reconnect) repeats taps: only seqs
 * above the highest seen from that gate are counted, so each tap is counted
 * once, in the minute the service first saw it.
 */
export class TapRate {
  private readonly highest = new Map<string, number>();
  /** Minute start -> site -> taps. */
  private readonly counts = new Map<number, Map<string, number>>();

  /** A batch from `gate` of `site`; returns how many new taps it carried (0 for a repeat or a malformed batch). */
  note(gate: string, site: string, body: Buffer, nowMs: number): number {
    if (body.length > MAX_BATCH_BYTES) return 0;
    let parsed;
    try {
      parsed = batchSchema.safeParse(JSON.parse(body.toString('utf8')));
    } catch {
      return 0;
    }
    if (!parsed.success) return 0;
    const before = this.highest.get(gate) ?? 0;
    let top = before;
    let fresh = 0;
    for (const { seq } of parsed.data.taps) {
      if (seq > before) fresh++;
      top = Math.max(top, seq);
    }
    this.highest.set(gate, top);
    if (fresh > 0) {
      const minute = Math.floor(nowMs / 60_000) * 60_000;
      const bySite = this.counts.get(minute) ?? new Map<string, number>();
      bySite.set(site, (bySite.get(site) ?? 0) + fresh);
      this.counts.set(minute, bySite);
      for (const old of this.counts.keys()) if (old <= minute - RATE_MINUTES * 60_000) this.counts.delete(old);
    }
    return fresh;
  }

  series(nowMs: number): TapSeries {
    const last = Math.floor(nowMs / 60_000) * 60_000;
    const minutes = Array.from({ length: RATE_MINUTES }, (_, i) => last - (RATE_MINUTES - 1 - i) * 60_000);
    const sites: Record<string, number[]> = {};
    for (const [minute, bySite] of this.counts) {
      const index = minutes.indexOf(minute);
      if (index < 0) continue;
      for (const [site, count] of bySite) (sites[site] ??= new Array<number>(RATE_MINUTES).fill(0))[index] = count;
    }
    return { minutes, sites };
  }
}
