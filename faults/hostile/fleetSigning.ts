import { randomBytes } from 'node:crypto';
import { encode } from 'cborg';
import type { Jwk } from '../../src/core/credentials/trustList.js';
import { generateFleetKey, publicJwkOf, type FleetKey } from '../../provisioning/fleet/fleetKey.js';
import { signFleetMessage } from '../../provisioning/fleet/fleetSigner.js';
import { coseSign1, makeKeyPair, type KeyPair } from '../../sim/issuer.js';

/*
 * Fleet messages (docs/sync.md). The genuine fleet signs with the ops tool's
 * own signer (provisioning/fleet); the attacker signs with whatever key he
 * has, under whatever kid he likes, or not at all.
 */

export interface FleetOps {
  key: FleetKey;
  jwk(validity?: { nbf?: number; exp?: number }): Jwk;
  sign(payload: Record<string, unknown>): Uint8Array;
}

export function fleetOps(): FleetOps {
  const key = generateFleetKey('ES256');
  return {
    key,
    jwk: (validity = {}) => ({ ...publicJwkOf(key), ...validity }),
    sign: (payload) => signFleetMessage(key, payload),
  };
}

/** Signed with `key` under `kid`: an issuer's key, or an impostor's claiming a fleet kid. */
export function signedBy(key: KeyPair, kid: Uint8Array, payload: Record<string, unknown>): Uint8Array {
  return coseSign1(key, encode(payload), { kid });
}

/** A key of the fleet key's algorithm that claims its kid. */
export function impostorOf(fleet: FleetOps, payload: Record<string, unknown>): Uint8Array {
  return signedBy(makeKeyPair(fleet.key.alg), fleet.key.kid, payload);
}

/** The payload as JSON, with no COSE around it. */
export function unsigned(payload: Record<string, unknown>): Uint8Array {
  return Buffer.from(JSON.stringify(payload));
}

export function denyListUpdate(fields: { issuer: string; seq: number; base: number; add?: string[]; remove?: string[]; issuedAt: number }): Record<string, unknown> {
  return { add: [], remove: [], ...fields };
}

export function command(fields: { type: string; gate: string; exp: number; nonce?: string; mode?: string }): Record<string, unknown> {
  return { nonce: randomBytes(12).toString('hex'), ...fields };
}
