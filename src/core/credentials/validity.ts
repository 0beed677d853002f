import { refuse } from '../reasons.js';
import type { Claims } from './claims.js';

/** When a credential is checked, and how much clock difference is forgiven. */
export interface CheckTime {
  nowMs: number;
  skewSec: number;
}

/**
 * Time validity of a credential itself: `exp` ends it, `nbf` and `iat` start
 * it. A product's `from`/`until` window is a rule of the gate (`outside-window`,
 * see Decider and docs/credentials.md).
 */
export function checkValidity(claims: Claims, time: CheckTime, what: string): void {
  const now = time.nowMs / 1000;
  const skew = time.skewSec;
  if (now >= claims.exp + skew) refuse('expired', `${what} expired at ${claims.exp}`);
  if (claims.nbf !== undefined && now < claims.nbf - skew) refuse('not-yet-valid', `${what} not valid before ${claims.nbf}`);
  if (claims.iat !== undefined && now < claims.iat - skew) refuse('not-yet-valid', `${what} issued in the future (${claims.iat})`);
}
