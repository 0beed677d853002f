import { InputError, parseWith } from '../src/app/settingsSchema.js';
import { TrustListError, TrustStore, trustListSchema, type Jwk } from '../src/core/credentials/trustList.js';
import { readInputJson } from '../src/app/inputFile.js';

function sameKey(a: Jwk, b: Jwk): boolean {
  return a.kty === b.kty && a.crv === b.crv && a.x === b.x && a.y === b.y;
}

/**
 * The trust list the gate starts with: the issuers' list given at provisioning,
 * with the fleet-ops public key added to its `fleet` keys unless already there.
 * Checked as the gate will load it.
 */
export function trustWithFleetKey(trustPath: string, fleetKeyPath: string): unknown {
  const trust = parseWith(trustListSchema, readInputJson(trustPath, 'trust list'), trustPath);
  const fleetDocument = readInputJson(fleetKeyPath, 'fleet-ops key');
  if (fleetDocument !== null && typeof fleetDocument === 'object' && 'd' in fleetDocument) {
    throw new InputError(`${fleetKeyPath} is a private key: give the fleet-ops PUBLIC key (fleet-public.json); the private one never goes onto a gate`);
  }
  const fleetKey = parseWith(trustListSchema.shape.fleet.unwrap().element, fleetDocument, fleetKeyPath);
  const held = trust.fleet.find((key) => key.kid === fleetKey.kid);
  if (held && !sameKey(held, fleetKey)) throw new InputError(`${trustPath}: fleet key kid ${fleetKey.kid} is already there with other key material than ${fleetKeyPath}`);
  const document = held ? trust : { ...trust, fleet: [...trust.fleet, fleetKey] };
  try {
    TrustStore.fromDocument(document);
  } catch (error) {
    if (error instanceof TrustListError) throw new InputError(`${trustPath} with ${fleetKeyPath}: ${error.message}`);
    throw error;
  }
  return document;
}
