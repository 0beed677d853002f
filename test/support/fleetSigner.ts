import { randomBytes } from 'node:crypto';
import { encode } from 'cborg';
import type { CoseAlg } from '../../src/core/credentials/cose.js';
import type { Jwk, TrustListDocument } from '../../src/core/credentials/trustList.js';
import { coseSign1, jwkOf, makeKeyPair, type KeyPair } from '../../sim/issuer.js';

export type PayloadEncoding = 'cbor' | 'json';

/**
 * A fleet-ops key as the test's "fleet" holds it: signs deny-list updates,
 * commands and trust-list updates the way docs/sync.md describes, written
 * independently of provisioning/fleet so that the two can disagree.
 */
export class TestFleetKey {
  readonly key: KeyPair;
  readonly kid: Uint8Array;

  constructor(alg: CoseAlg = 'ES256', key?: KeyPair) {
    this.key = key ?? makeKeyPair(alg);
    this.kid = randomBytes(8);
  }

  jwk(validity: { nbf?: number; exp?: number } = {}): Jwk {
    return jwkOf(this.key, this.kid, validity);
  }

  sign(payload: Record<string, unknown>, options: { encoding?: PayloadEncoding; tagged?: boolean } = {}): Uint8Array {
    const bytes = options.encoding === 'json' ? Buffer.from(JSON.stringify(payload)) : encode(payload);
    return coseSign1(this.key, bytes, { kid: this.kid, tagged: options.tagged ?? true });
  }

  /** A key that claims this key's kid: a forger's signature. */
  impostor(): TestFleetKey {
    const forged = new TestFleetKey(this.key.alg);
    (forged as { kid: Uint8Array }).kid = this.kid;
    return forged;
  }
}

/** Sign `payload` with any key pair and kid, e.g. an issuer's: not a fleet key. */
export function signWith(key: KeyPair, kid: Uint8Array, payload: Record<string, unknown>): Uint8Array {
  return coseSign1(key, encode(payload), { kid });
}

/** The same bytes with the last signature byte flipped. */
export function tampered(bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[copy.length - 1]! ^= 0x01;
  return copy;
}

export interface DenyListFields {
  issuer: string;
  seq: number;
  base: number;
  add?: string[];
  remove?: string[];
  issuedAt?: number;
  part?: number;
  parts?: number;
}

export function denyListPayload(fields: DenyListFields): Record<string, unknown> {
  return { add: [], remove: [], issuedAt: Math.floor(Date.now() / 1000), ...fields };
}

export interface CommandFields {
  type: 'open' | 'set-mode' | 'resync' | 'reload-trust';
  gate: string;
  exp: number;
  nonce?: string | Uint8Array;
  mode?: string;
  issuer?: string;
}

export function commandPayload(fields: CommandFields): Record<string, unknown> {
  return { nonce: randomBytes(12).toString('hex'), ...fields };
}

export function trustUpdatePayload(seq: number, trustList: TrustListDocument): Record<string, unknown> {
  return { seq, issuedAt: Math.floor(Date.now() / 1000), trustList };
}
