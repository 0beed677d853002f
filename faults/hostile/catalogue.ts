import { cardCases } from './cardCases.js';
import { clockCases } from './clockCases.js';
import { codeCases } from './codeCases.js';
import { commandCases } from './commandCases.js';
import { denyListCases } from './denyListCases.js';
import type { HostileCase } from './hostileCase.js';
import { offlineCodeCases } from './offlineCodeCases.js';
import { replayCases } from './replayCases.js';
import { siteCases } from './siteCases.js';
import { trustCases } from './trustCases.js';

/**
 * Every hostile case, in the order they run against one pair of gates: the
 * deny-list, trust-list and command groups build on the state their own
 * controls set up, so the order within a group matters.
 */
export function hostileCatalogue(): HostileCase[] {
  const cases = [...codeCases(), ...offlineCodeCases(), ...replayCases(), ...cardCases(), ...denyListCases(), ...trustCases(), ...commandCases(), ...siteCases(), ...clockCases()];
  const names = new Set<string>();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`two hostile cases are named "${c.name}"`);
    names.add(c.name);
  }
  return cases;
}
