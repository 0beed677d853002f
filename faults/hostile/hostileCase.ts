import type { HostileWorld } from './hostileWorld.js';

/**
 * One line of the catalogue. Outcomes are written the same way for what is
 * expected and what is observed, so that they compare as text:
 * - `tap:<reason>`: the gate journaled a tap with this reason (`tap:ok`: accepted);
 * - `repeat`: the same presentation within the double-tap window, nothing journaled or opened;
 * - `applied` / `ignored:<why>`: a deny-list or trust-list update, as gate A handled it;
 * - `cmd:<result>:<reason>`: a command's answer on cmd/result.
 * Anything the gate did that it must not (a barrier opened on a refusal, a
 * holder let off the deny list by an ignored update) is appended as
 * ` + <what>`, so the outcome no longer matches.
 */
export interface HostileCase {
  group: string;
  name: string;
  /** What the attacker (or, for a control, the genuine party) does. */
  attack: string;
  expected: string;
  /** The genuine credential or message, which the same gate must accept: proves the setup works. */
  control?: boolean;
  /** Runs only with the real PC/SC stack. */
  needs?: 'pcsc';
  run(world: HostileWorld): Promise<string>;
}

/** Shorthand for a case; `run` may also return an outcome with side effects appended. */
export function hostileCase(group: string, name: string, attack: string, expected: string, run: HostileCase['run'], extra: Pick<HostileCase, 'control' | 'needs'> = {}): HostileCase {
  return { group, name, attack, expected, run, ...extra };
}

/** A control: the genuine thing, expected to pass. */
export function control(group: string, name: string, attack: string, expected: string, run: HostileCase['run'], extra: Pick<HostileCase, 'needs'> = {}): HostileCase {
  return hostileCase(group, name, attack, expected, run, { ...extra, control: true });
}

/** A step inside a case that must succeed for the attack to mean anything; its failure is reported as the outcome. */
export class SetupFailed extends Error {
  override name = 'SetupFailed';
}

export function expectStep(step: string, got: string, wanted: string): void {
  if (got !== wanted) throw new SetupFailed(`setup step "${step}" gave ${got}, expected ${wanted}`);
}

/** Appends violations (things that must still hold) to an outcome. */
export function withViolations(got: string, violations: readonly string[]): string {
  return violations.length === 0 ? got : `${got} + ${violations.join(', ')}`;
}
