import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestFleetCa, type PemPair } from '../../sim/fleetCa.js';
import { tempDirRemovedOnExit } from '../../sim/exitReaper.js';
import { certificatesIn, SiteSenderCheck, SiteSigner } from '../../src/core/sync/siteSignature.js';
import type { SiteAuthentication } from '../../src/core/sync/siteSharing.js';

/** The gate that fell into the wrong hands: a valid device certificate of the fleet, no gate running. */
export const COMPROMISED_GATE = 'HOSTILE-C';

/** Device certificates from a test fleet CA for the site's gates and the compromised one, and a stranger CA's for gate B's name. */
/** The hostile world's clocks start in the past (hostileKeys.ts START_MS): certificates valid from well before. */
const VALIDITY = { from: new Date(Date.now() - 400 * 86_400_000), to: new Date(Date.now() + 400 * 86_400_000) };

export interface SiteDevices {
  auth(gateId: string, now: () => number): SiteAuthentication;
  /** Signs as the compromised gate, with its genuine certificate. */
  compromised: SiteSigner;
  /** Signs with a certificate naming gate B from a CA the fleet does not know. */
  stranger: SiteSigner;
}

export function siteDevices(): SiteDevices {
  const dir = tempDirRemovedOnExit('citygate-hostile-fleet-ca-');
  const fleet = TestFleetCa.make(join(dir, 'fleet'));
  const other = TestFleetCa.make(join(dir, 'other'), 'other-ca');
  const cas = certificatesIn(readFileSync(fleet.ca.cert, 'utf8'));
  const signer = (pair: PemPair) => new SiteSigner(readFileSync(pair.cert, 'utf8'), readFileSync(pair.key, 'utf8'));
  const compromised = fleet.device(COMPROMISED_GATE, VALIDITY, { clientAuth: true });
  const strangerB = other.device('HOSTILE-B', VALIDITY, { clientAuth: true });
  return {
    auth: (gateId, now) => {
      const device = fleet.device(gateId, VALIDITY, { clientAuth: true });
      return { signer: signer(device), check: new SiteSenderCheck(cas, now) };
    },
    compromised: signer(compromised),
    stranger: signer(strangerB),
  };
}
