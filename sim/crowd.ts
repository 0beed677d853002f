import type { Category } from '../src/core/credentials/credential.js';
import { CARD_FAULTS, CODE_FAULTS, type Expectation, type Fault, type Scenario, type ScenarioPassenger } from './scenario.js';
import { seededRandom } from './seededRandom.js';

/** What each fault must be refused with: the crowd's expectations, stated independently of the gate. */
export const FAULT_REASON: Record<Fault, Expectation> = {
  expired: 'expired',
  'not-yet-valid': 'not-yet-valid',
  forged: 'bad-signature',
  'unknown-issuer': 'unknown-issuer',
  'unknown-key': 'unknown-key',
  cloned: 'card-auth-failed',
  removed: 'card-removed',
  stale: 'stale',
  garbage: 'malformed',
  'foreign-card': 'card-not-supported',
  tampered: 'bad-signature',
  'foreign-scheme': 'card-not-supported',
  revoked: 'certificate-revoked',
  // A purse card pulled as it answers DEBIT: paid, but the gate never heard; nobody passes until it comes back.
  torn: 'purchase-pending',
};

const CATEGORY_MIX: [Category, number][] = [
  ['adult', 0.7],
  ['senior', 0.12],
  ['student', 0.12],
  ['child', 0.03],
  ['disabled', 0.03],
];

/**
 * A rush-hour crowd after the scenario's own passengers: mostly good cards and
 * codes, with faults, double taps, replays and deny-listed holders mixed in,
 * each passenger carrying the outcome the gate must give.
 */
export function crowdOf(scenario: Scenario, firstAt: number): ScenarioPassenger[] {
  const crowd = scenario.crowd;
  if (!crowd) return [];
  const next = seededRandom(crowd.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const category = (): Category => {
    let r = next();
    for (const [c, share] of CATEGORY_MIX) if ((r -= share) < 0) return c;
    return 'adult';
  };
  // The crowd carries CG cards of the scenario's issuers: deny-listed bank cards and transport accounts are the file's own passengers.
  const denied = Object.entries(scenario.denyList)
    .filter(([issuer]) => scenario.issuers.some((i) => i.id === issuer))
    .flatMap(([issuer, ids]) => ids.filter((id) => !id.startsWith('cti:')).map((id) => ({ issuer, id })));
  const issuers = scenario.issuers.map((i) => i.id);
  const passengers: ScenarioPassenger[] = [];
  const replayable: { name: string; at: number }[] = [];

  for (let i = 0; i < crowd.count; i++) {
    const at = Math.round((firstAt + i * crowd.every) * 1000) / 1000;
    const name = `crowd-${i + 1}`;
    const roll = next();
    const base = { name, at, double: false, walk: true };
    const issuer = pick(issuers);
    const cat = category();
    const allowed = scenario.gate.categories.includes(cat);
    const expectFor = (fault?: Fault): Expectation => (fault ? FAULT_REASON[fault] : allowed ? 'accepted' : 'category-not-allowed');
    // A screenshot shown again a little later, while the code would otherwise still be valid.
    const replay = replayable.findLast((r) => at - r.at > 5 && at - r.at < 40);
    if (roll < 0.5) {
      const fault = next() < 0.12 ? pick(CARD_FAULTS) : undefined;
      const card = { issuer, number: `C${String(100_000 + i)}`, category: fault ? 'adult' : cat } as const;
      passengers.push({ ...base, card, fault, double: !fault && next() < 0.06, expect: expectFor(fault) });
    } else if (roll < 0.9) {
      const fault = next() < 0.12 ? pick(CODE_FAULTS) : undefined;
      const profile = fault === 'stale' || next() < 0.5 ? 'holder' : 'issuer';
      const code = { issuer, account: `acct-${i}`, category: fault ? 'adult' : cat, profile } as const;
      passengers.push({ ...base, code, fault, double: !fault && next() < 0.06, expect: expectFor(fault) });
      if (!fault && allowed) replayable.push({ name, at });
    } else if (roll < 0.95 && replay) {
      replayable.splice(replayable.indexOf(replay), 1);
      passengers.push({ ...base, again: replay.name, expect: 'replayed' });
    } else if (denied.length > 0) {
      const who = pick(denied);
      passengers.push({ ...base, card: { issuer: who.issuer, number: who.id, category: 'adult' }, expect: 'deny-listed' });
    } else {
      passengers.push({ ...base, card: { issuer, number: `C${String(100_000 + i)}`, category: 'adult' }, expect: 'accepted' });
    }
  }
  return passengers;
}
