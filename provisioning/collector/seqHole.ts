import type { Gap } from './tapStore.js';

/** A hole a batch leaves below itself, above the highest seq stored for its gate so far. */
export interface HoleBelow {
  /** Taps missing that the gate counts as acknowledged, or cannot tell (no delivered mark): a gap to report. */
  opened: Gap | undefined;
  /**
   * Taps the gate sent before this batch and still holds unacknowledged: on
   * their way (another collector of a shared subscription may be storing them
   * now) or sent again by the gate for want of an ack. Not a gap: not reported.
   */
  awaited: Gap | undefined;
}

/**
 * Classify the hole `highest+1 .. first-1`. The batch's delivered mark says
 * which taps the gate still holds: every one above it, which it sends again
 * until acked. A hole wholly above the mark is such taps.
 */
export function holeBelow(highest: number, first: number, delivered: number | undefined): HoleBelow {
  if (first <= highest + 1) return { opened: undefined, awaited: undefined };
  const hole = { from: highest + 1, to: first - 1 };
  if (delivered !== undefined && delivered < hole.from) return { opened: undefined, awaited: hole };
  return { opened: hole, awaited: undefined };
}

/**
 * Where the range of a gate never seen starts: at the delivered mark its
 * first batch carries (what came before was acknowledged, maybe elsewhere,
 * maybe since pruned), or just below that batch for a gate that sends none.
 */
export function rangeStart(firstSeq: number, delivered: number | undefined): number {
  return Math.min(delivered ?? firstSeq - 1, firstSeq - 1);
}
