import { randomBytes } from 'node:crypto';
import { encode, Tagged } from 'cborg';
import { ALG_LABEL, toBeSigned, type CoseAlg } from '../../src/core/credentials/cose.js';
import type { Jwk, TrustListDocument } from '../../src/core/credentials/trustList.js';
import { jwkOf, makeKeyPair, signBytes, type KeyPair } from '../../sim/issuer.js';

export type PayloadEncoding = 'cbor' | 'json';

/** What a fleet message is signed for (docs/sync.md: `typ` = `citygate-<purpose>` in the protected header). */
export type Purpose = 'denylist' | 'command' | 'trust' | 'revocations';

export interface FleetSignOptions {
  encoding?: PayloadEncoding;
  tagged?: boolean;
  /** Default: read from the payload's fields (purposeFor). */
  purpose?: Purpose;
  /** No typ at all: a message as signed before messages were bound to their purpose. */
  untyped?: boolean;
}

/** The purpose a test payload's fields name; the helpers sign every message for its purpose, as fleet ops does. */
export function purposeFor(payload: Record<string, unknown>): Purpose {
  if ('trustList' in payload) return 'trust';
  if ('revoked' in payload) return 'revocations';
  if ('base' in payload) return 'denylist';
  if ('nonce' in payload || 'gate' in payload) return 'command';
  throw new Error(`test fleet signer: cannot tell the purpose of ${JSON.stringify(Object.keys(payload))}; pass { purpose }`);
}

/** COSE_Sign1 with alg, kid and (unless untyped) typ in the protected header. */
function sign1(key: KeyPair, kid: Uint8Array, payload: Uint8Array, typ: string | undefined, tagged: boolean): Uint8Array {
  const header = new Map<number, unknown>([[1, ALG_LABEL[key.alg]], [4, kid]]);
  if (typ !== undefined) header.set(16, typ);
  const protectedBytes = encode(header);
  const structure = [protectedBytes, new Map(), payload, signBytes(key, toBeSigned({ protectedBytes, payload }))];
  return encode(tagged ? new Tagged(18, structure) : structure);
}

function typOf(payload: Record<string, unknown>, options: FleetSignOptions): string | undefined {
  return options.untyped ? undefined : `citygate-${options.purpose ?? purposeFor(payload)}`;
}

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

  /** Signed for the purpose its fields name, or `options.purpose` (a message replayed as another type), or none (`untyped`). */
  sign(payload: Record<string, unknown>, options: FleetSignOptions = {}): Uint8Array {
    const bytes = options.encoding === 'json' ? Buffer.from(JSON.stringify(payload)) : encode(payload);
    return sign1(this.key, this.kid, bytes, typOf(payload, options), options.tagged ?? true);
  }

  /** A key that claims this key's kid: a forger's signature. */
  impostor(): TestFleetKey {
    const forged = new TestFleetKey(this.key.alg);
    (forged as { kid: Uint8Array }).kid = this.kid;
    return forged;
  }
}

/** Sign `payload` with any key pair and kid, e.g. an issuer's: not a fleet key. */
export function signWith(key: KeyPair, kid: Uint8Array, payload: Record<string, unknown>, options: FleetSignOptions = {}): Uint8Array {
  return sign1(key, kid, encode(payload), typOf(payload, options), true);
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
