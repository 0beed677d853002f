import type { Decision } from '../../src/core/decider.js';
import { CONTRACT_REASONS, GATE_REASONS } from '../../src/core/reasons.js';
import { violated, type Outcome } from './target.js';

const REFUSAL_REASONS: ReadonlySet<string> = new Set([...CONTRACT_REASONS, ...GATE_REASONS].filter((r) => r !== 'ok'));

/** The decider's catch-all: an exception inside a parser or rule that became `malformed`. */
const CATCH_ALL = 'unexpected:';

/**
 * Read a Decision: accepted with `ok`, or refused with one of the reason codes
 * and a detail that is not the catch-all for a bug. `forgery` says what is
 * wrong with an accepted credential, if anything.
 */
export function decisionOutcome(decision: Decision, forgery: (decision: Decision) => string | undefined): Outcome {
  if (decision.result === 'accepted') {
    if ((decision.reason as string) !== 'ok') return violated(`accepted with reason ${String(decision.reason)}`);
    const forged = forgery(decision);
    return forged === undefined ? { kind: 'accepted' } : { kind: 'accepted', forgery: forged };
  }
  if (decision.result !== 'refused') return violated(`decision ${JSON.stringify(decision)} is neither accepted nor refused`);
  if (!REFUSAL_REASONS.has(decision.reason)) return violated(`refused with ${String(decision.reason)}, not a reason code`);
  if (typeof decision.detail !== 'string' || decision.detail.startsWith(CATCH_ALL)) return { kind: 'crash', error: `refused ${decision.reason}: ${String(decision.detail)}` };
  return { kind: 'refused', reason: decision.reason };
}
