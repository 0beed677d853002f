import type { Jwk, TrustListDocument } from '../../src/core/credentials/trustList.js';
import { TestIssuer } from '../../sim/issuer.js';
import { fleetOps, type FleetOps } from './fleetSigning.js';

/** The gates' wall clock at start (virtual). */
export const START_MS = Date.parse('2026-11-23T08:00:00Z');
const START_SEC = START_MS / 1000;
const DAY = 86_400;

/** Every key in the story: the trusted ones, the retired and not-yet-valid ones, and the newcomer a trust update brings. */
export interface HostileKeys {
  /** Issuer A's main key (ES256). */
  a: TestIssuer;
  /** Issuer A's second key in force (EdDSA): the target of a swapped kid. */
  a2: TestIssuer;
  /** A key of issuer A retired a day before the start (JWK exp). */
  retiredA: TestIssuer;
  /** A key of issuer A in force only from 30 days after the start (JWK nbf). */
  futureA: TestIssuer;
  /** Another trusted issuer. */
  b: TestIssuer;
  /** Trusted only while the fleet's trust update seq 1 is in force. */
  newcomer: TestIssuer;
  fleet: FleetOps;
  /** A fleet-ops key retired a day before the start: still in the trust list, no longer in force. */
  retiredFleet: FleetOps;
}

export function makeKeys(): HostileKeys {
  const a = new TestIssuer('cq.yukuaima', 'ES256');
  return {
    a,
    a2: new TestIssuer(a.id, 'EdDSA'),
    retiredA: new TestIssuer(a.id, 'ES256'),
    futureA: new TestIssuer(a.id, 'ES256'),
    b: new TestIssuer('metro.other', 'ES256'),
    newcomer: new TestIssuer('metro.newcomer', 'EdDSA'),
    fleet: fleetOps(),
    retiredFleet: fleetOps(),
  };
}

/** The trust list the gates are provisioned with; `newcomer` adds the newcomer issuer (the fleet's trust update seq 1). */
export function trustDocument(keys: HostileKeys, options: { newcomer?: boolean } = {}): TrustListDocument {
  const issuerA: Jwk[] = [keys.a.jwk(), keys.a2.jwk(), keys.retiredA.jwk({ exp: START_SEC - DAY }), keys.futureA.jwk({ nbf: START_SEC + 30 * DAY })];
  return {
    issuers: [
      { id: keys.a.id, name: 'Yukuaima', keys: issuerA },
      { id: keys.b.id, name: 'Other metro', keys: [keys.b.jwk()] },
      ...(options.newcomer ? [{ id: keys.newcomer.id, name: 'Newcomer', keys: [keys.newcomer.jwk()] }] : []),
    ],
    fleet: [keys.fleet.jwk(), keys.retiredFleet.jwk({ exp: START_SEC - DAY })],
  };
}
