import { z } from 'zod';
import { refuse } from '../reasons.js';
import { keyFromJwk, type VerifyKey } from './publicKey.js';
import { EMV_ISSUER } from './qpbocCard.js';
import { TRANSPORT_ISSUER } from './transport/transportIssuer.js';
import { TransportTrust, transportTrustSchema } from './transport/transportTrust.js';
import { UID_ISSUER } from './uidCard.js';

/**
 * Issuer names the gate gives credentials no CG1 issuer signs: `uid` (a card
 * known by its chip UID), `emv` (a bank card, its subject a token) and
 * `transport` (a national transport QR code, its subject the account number).
 * An issuer of the trust list by one of these names would share its subjects
 * with them in the deny list and the access allow-list: a trust list naming
 * one is refused (any case).
 */
export const RESERVED_ISSUERS: readonly string[] = [UID_ISSUER, EMV_ISSUER, TRANSPORT_ISSUER];

/** A JWK in a trust list (DESIGN.md §2); `nbf`/`exp` bound its use for key rotation. */
const jwkSchema = z.looseObject({
  kid: z.string().min(1).regex(/^[A-Za-z0-9_-]+=*$/, 'kid must be base64url'),
  alg: z.enum(['ES256', 'EdDSA']),
  kty: z.string(),
  crv: z.string(),
  x: z.string().min(1),
  y: z.string().optional(),
  nbf: z.number().optional(),
  exp: z.number().optional(),
});

export const trustListSchema = z.object({
  issuers: z.array(
    z.object({
      id: z.string().min(1),
      name: z.string().optional(),
      keys: z.array(jwkSchema),
    }),
  ),
  fleet: z.array(jwkSchema).default([]),
  /** Root CAs and issuers of national transport QR codes (DESIGN.md §5). */
  transport: transportTrustSchema.optional(),
});

export type TrustListDocument = z.input<typeof trustListSchema>;
export type Jwk = z.infer<typeof jwkSchema>;

export interface TrustedKey extends VerifyKey {
  kid: string;
  nbf: number | undefined;
  exp: number | undefined;
}

/** The trust list is wrong: says where and why, for the technician who wrote it. */
export class TrustListError extends Error {
  override name = 'TrustListError';
}

/** Key ids are compared as bytes; this is their canonical text (unpadded base64url). */
export function kidText(kid: Uint8Array): string {
  return Buffer.from(kid.buffer, kid.byteOffset, kid.byteLength).toString('base64url');
}

function normaliseKid(kid: string): string {
  return Buffer.from(kid.replace(/=+$/, ''), 'base64url').toString('base64url');
}

function loadKey(jwk: Jwk, where: string): TrustedKey {
  try {
    return { ...keyFromJwk(jwk), kid: normaliseKid(jwk.kid), nbf: jwk.nbf, exp: jwk.exp };
  } catch (error) {
    throw new TrustListError(`${where} (kid ${jwk.kid}): ${(error as Error).message}`);
  }
}

function keyMap(jwks: Jwk[], where: string): Map<string, TrustedKey> {
  const keys = new Map<string, TrustedKey>();
  jwks.forEach((jwk, i) => {
    const key = loadKey(jwk, `${where}.keys[${i}]`);
    if (keys.has(key.kid)) throw new TrustListError(`${where}.keys[${i}]: kid ${jwk.kid} appears twice`);
    keys.set(key.kid, key);
  });
  return keys;
}

/** The issuers and fleet-ops keys this gate trusts, ready for lookups on the tap path. */
export class TrustStore {
  private constructor(
    private readonly issuers: Map<string, { name: string; keys: Map<string, TrustedKey> }>,
    readonly fleetKeys: Map<string, TrustedKey>,
    /** Absent: the gate takes no transport QR codes (they are `unknown-key`). */
    readonly transport: TransportTrust | undefined,
  ) {}

  static fromDocument(document: unknown): TrustStore {
    const parsed = trustListSchema.safeParse(document);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new TrustListError(`trust list: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    }
    const issuers = new Map<string, { name: string; keys: Map<string, TrustedKey> }>();
    parsed.data.issuers.forEach((issuer, i) => {
      if (issuers.has(issuer.id)) throw new TrustListError(`trust list: issuers[${i}]: issuer ${issuer.id} appears twice`);
      if (RESERVED_ISSUERS.includes(issuer.id.toLowerCase())) {
        throw new TrustListError(
          `trust list: issuers[${i}]: issuer id ${JSON.stringify(issuer.id)} is reserved (${RESERVED_ISSUERS.join(', ')}: UID cards, bank cards and transport QR codes, whose entries in deny lists and allow-lists it would share)`,
        );
      }
      issuers.set(issuer.id, { name: issuer.name ?? issuer.id, keys: keyMap(issuer.keys, `trust list: issuers[${i}]`) });
    });
    let transport: TransportTrust | undefined;
    try {
      transport = parsed.data.transport && TransportTrust.fromDocument(parsed.data.transport);
    } catch (error) {
      throw new TrustListError(`trust list: transport.${(error as Error).message}`);
    }
    return new TrustStore(issuers, keyMap(parsed.data.fleet, 'trust list: fleet'), transport);
  }

  static fromJson(text: string): TrustStore {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new TrustListError(`trust list is not JSON: ${(error as Error).message}`);
    }
    return TrustStore.fromDocument(document);
  }

  /**
   * The key an issuer signs with under `kid`, if it is in force at `nowSec`
   * (with `skewSec` of tolerance). Refuses `unknown-issuer` or `unknown-key`.
   */
  issuerKey(issuer: string, kid: Uint8Array | undefined, nowSec: number, skewSec: number): TrustedKey {
    const entry = this.issuers.get(issuer);
    if (!entry) refuse('unknown-issuer', `issuer ${JSON.stringify(issuer)} is not in the trust list`);
    if (!kid) refuse('unknown-key', `no kid in the header of a credential from ${issuer}`);
    const key = entry.keys.get(kidText(kid));
    if (!key) refuse('unknown-key', `kid ${kidText(kid)} is not a key of ${issuer}`);
    if (key.nbf !== undefined && nowSec < key.nbf - skewSec) refuse('unknown-key', `key ${key.kid} of ${issuer} is not in force before ${key.nbf}`);
    if (key.exp !== undefined && nowSec >= key.exp + skewSec) refuse('unknown-key', `key ${key.kid} of ${issuer} was retired at ${key.exp}`);
    return key;
  }
}
