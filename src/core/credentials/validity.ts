import { refuse } from '../reasons.js';
import type { Claims } from './claims.js';

/** When a credential is checked, and how much clock difference is forgiven. */
export interface CheckTime {
  nowMs: number;
  skewSec: number;
}

/**
 * Time validity of a credential: `exp` and the product's `until` end it,
 * `nbf`, `iat` and the product's `from` start it (DESIGN.md §2; see
 * docs/credentials.md for why `from`/`until` report `not-yet-valid`/`expired`).
 */
export function checkValidity(claims: Claims, time: CheckTime, what: string): void {
  const now = time.nowMs / 1000;
  const skew = time.skewSec;
  if (now >= claims.exp + skew) refuse('expired', `${what} expired at ${claims.exp}`);
  if (claims.product?.until !== undefined && now >= claims.product.until + skew) {
    refuse('expired', `${what}: product valid until ${claims.product.until}`);
  }
  if (claims.nbf !== undefined && now < claims.nbf - skew) refuse('not-yet-valid', `${what} not valid before ${claims.nbf}`);
  if (claims.iat !== undefined && now < claims.iat - skew) refuse('not-yet-valid', `${what} issued in the future (${claims.iat})`);
  if (claims.product?.from !== undefined && now < claims.product.from - skew) {
    refuse('not-yet-valid', `${what}: product valid from ${claims.product.from}`);
  }
}
