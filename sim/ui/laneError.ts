/** Why the lane did not do what the page asked; the page shows the message. */
export type LaneErrorReason = 'lane-changed' | 'playing' | 'not-presented' | 'no-such-entry' | 'no-such-scenario' | 'closed';

export class LaneError extends Error {
  override name = 'LaneError';

  constructor(
    readonly reason: LaneErrorReason,
    message: string,
  ) {
    super(message);
  }
}
