/** One verified deny-list update (docs/sync.md): what the store applies. */
export interface DenyListUpdate {
  issuer: string;
  seq: number;
  /** The seq it applies onto; 0 = a full snapshot. */
  base: number;
  add: readonly string[];
  remove: readonly string[];
  issuedAt: number;
  /** A snapshot in parts: part `part` of `parts`, 1-based. Absent for a single message. */
  part?: { index: number; count: number };
}

/** What the store did with an update. */
export type ApplyResult =
  | { status: 'applied'; seq: number }
  /** A snapshot part was staged; the snapshot applies when all parts are in. */
  | { status: 'staged'; seq: number; have: number; of: number }
  /** seq at or below the one held: a replay or a rollback. */
  | { status: 'ignored'; held: number }
  /** base is neither the held seq nor 0: updates are missing; ask for a resync. */
  | { status: 'gap'; held: number };
