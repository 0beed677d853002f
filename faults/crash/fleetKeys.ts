import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { encode } from 'cborg';
import { fleetTyp } from '../../src/core/sync/fleetMessage.js';
import { coseSign1, jwkOf, makeKeyPair, TestIssuer, trustListOf, type KeyPair } from '../../sim/issuer.js';

/**
 * The parties around the gates under test: the issuer whose codes they
 * accept, an issuer they do not know, and the fleet-ops key that signs deny lists.
 */
export class CrashParties {
  readonly issuer = new TestIssuer('crash.city', 'ES256');
  readonly stranger = new TestIssuer('crash.unknown', 'ES256');
  private readonly fleetKey: KeyPair = makeKeyPair('ES256');
  private readonly fleetKid = randomBytes(8);

  writeTrustFile(path: string): void {
    writeFileSync(path, JSON.stringify(trustListOf([this.issuer], [jwkOf(this.fleetKey, this.fleetKid)])));
  }

  /** A deny-list update as docs/sync.md describes it, signed by the fleet-ops key. */
  signDenyList(payload: { issuer: string; seq: number; base: number; add: string[]; remove: string[]; issuedAt: number }): Uint8Array {
    return coseSign1(this.fleetKey, encode(payload), { kid: this.fleetKid, typ: fleetTyp('denylist') });
  }
}
