import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { encode } from 'cborg';
import { encodeBase45 } from '../src/core/credentials/base45.js';
import { Tagged } from '../src/core/credentials/cbor.js';
import { ALG_LABEL, toBeSigned, type CoseAlg } from '../src/core/credentials/cose.js';
import type { Category, Product } from '../src/core/credentials/credential.js';
import type { Jwk, TrustListDocument } from '../src/core/credentials/trustList.js';

/*
 * Test issuer tooling: keys, trust lists, codes of both profiles and card
 * certificates, made the way DESIGN.md §2 and §3 describe. For tests and the
 * simulator only; a real issuer signs in its own back office.
 */

export interface KeyPair {
  alg: CoseAlg;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function makeKeyPair(alg: CoseAlg): KeyPair {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { alg, ...pair };
}

export function signBytes(key: KeyPair, data: Uint8Array): Uint8Array {
  return key.alg === 'ES256' ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }) : sign(null, data, key.privateKey);
}

/** The public half as a COSE_Key map (for `cnf`). */
export function coseKeyOf(key: KeyPair): Map<number, unknown> {
  const jwk = key.publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  if (key.alg === 'EdDSA') return new Map<number, unknown>([[1, 1], [-1, 6], [-2, x]]);
  return new Map<number, unknown>([[1, 2], [-1, 1], [-2, x], [-3, Buffer.from(jwk.y!, 'base64url')]]);
}

export function jwkOf(key: KeyPair, kid: Uint8Array, validity: { nbf?: number; exp?: number } = {}): Jwk {
  const jwk = key.publicKey.export({ format: 'jwk' });
  return {
    kid: Buffer.from(kid).toString('base64url'),
    alg: key.alg,
    kty: jwk.kty!,
    crv: jwk.crv!,
    x: jwk.x!,
    ...(jwk.y ? { y: jwk.y } : {}),
    ...validity,
  };
}

export interface SignOptions {
  /** Default true: the QR contract wants tag 18. */
  tagged?: boolean;
  kid?: Uint8Array | undefined;
  /** Header alg, when a test wants it to disagree with the key. */
  alg?: CoseAlg;
  /** Protected `typ` (16, RFC 9596): what a fleet message is signed for (docs/sync.md). */
  typ?: string;
}

/** A COSE_Sign1 over `payload`. */
export function coseSign1(key: KeyPair, payload: Uint8Array, options: SignOptions = {}): Uint8Array {
  const header = new Map<number, unknown>([[1, ALG_LABEL[options.alg ?? key.alg]]]);
  if (options.kid) header.set(4, options.kid);
  if (options.typ) header.set(16, options.typ);
  const protectedBytes = encode(header);
  const signature = signBytes(key, toBeSigned({ protectedBytes, payload }));
  const structure = [protectedBytes, new Map(), payload, signature];
  return encode(options.tagged === false ? structure : new Tagged(18, structure));
}

export function codeText(cose: Uint8Array): string {
  return `CG1:${encodeBase45(cose)}`;
}

/** Claims in readable form; times in epoch seconds. */
export interface ClaimSet {
  iss: string;
  sub: string;
  exp: number;
  iat?: number;
  nbf?: number;
  cti?: Uint8Array;
  category?: Category | string;
  product?: Partial<Product>;
  cnf?: Map<number, unknown>;
}

export function claimsMap(claims: ClaimSet): Map<number, unknown> {
  const map = new Map<number, unknown>([[1, claims.iss], [2, claims.sub], [4, claims.exp]]);
  if (claims.nbf !== undefined) map.set(5, claims.nbf);
  if (claims.iat !== undefined) map.set(6, claims.iat);
  if (claims.cti !== undefined) map.set(7, claims.cti);
  if (claims.cnf !== undefined) map.set(8, new Map([[1, claims.cnf]]));
  if (claims.category !== undefined) map.set(-65537, claims.category);
  if (claims.product !== undefined) map.set(-65538, new Map(Object.entries(claims.product)));
  return map;
}

/** An issuer with one signing key. */
export class TestIssuer {
  readonly key: KeyPair;
  readonly kid: Uint8Array;

  constructor(
    readonly id: string,
    alg: CoseAlg = 'ES256',
    kid?: Uint8Array,
    key?: KeyPair,
  ) {
    this.key = key ?? makeKeyPair(alg);
    this.kid = kid ?? randomBytes(8);
  }

  jwk(validity: { nbf?: number; exp?: number } = {}): Jwk {
    return jwkOf(this.key, this.kid, validity);
  }

  /** A different key under the same issuer id and kid: what a forger would have. */
  impostor(): TestIssuer {
    return new TestIssuer(this.id, this.key.alg, this.kid);
  }

  sign(claims: ClaimSet, options: SignOptions = {}): Uint8Array {
    return coseSign1(this.key, encode(claimsMap(claims)), { kid: this.kid, ...options });
  }

  /** Profile (a): an issuer-signed code, with the usual claims filled in around `claims`. */
  issuerCode(claims: Partial<ClaimSet> & { sub: string; iat: number }, options: SignOptions = {}): string {
    return codeText(
      this.sign(
        { iss: this.id, exp: claims.iat + 120, cti: randomBytes(16), category: 'adult', ...claims },
        options,
      ),
    );
  }

  /** The inner credential of profile (b), or a card certificate: claims plus `cnf` = the holder's key. */
  boundCredential(holderKey: KeyPair, claims: Partial<ClaimSet> & { sub: string; iat: number }, options: SignOptions = {}): Uint8Array {
    return this.sign(
      { iss: this.id, exp: claims.iat + 30 * 86_400, cti: randomBytes(16), category: 'adult', cnf: coseKeyOf(holderKey), ...claims },
      { tagged: true, ...options },
    );
  }
}

/** A phone holding an issuer credential bound to its own key: makes offline codes (profile b). */
export class TestHolder {
  readonly key: KeyPair;
  private counter = 0;

  constructor(
    readonly credential: Uint8Array,
    key: KeyPair,
  ) {
    this.key = key;
  }

  static enrol(issuer: TestIssuer, claims: Partial<ClaimSet> & { sub: string; iat: number }, alg: CoseAlg = 'ES256'): TestHolder {
    const key = makeKeyPair(alg);
    return new TestHolder(issuer.boundCredential(key, claims), key);
  }

  offlineCode(iat: number, options: SignOptions & { counter?: number; signWith?: KeyPair } = {}): string {
    const counter = options.counter ?? this.counter++;
    const payload = encode(new Map<number, unknown>([[1, this.credential], [2, iat], [3, counter]]));
    return codeText(coseSign1(options.signWith ?? this.key, payload, options));
  }
}

export function trustListOf(issuers: readonly TestIssuer[], fleet: Jwk[] = []): TrustListDocument {
  const byId = new Map<string, Jwk[]>();
  for (const issuer of issuers) byId.set(issuer.id, [...(byId.get(issuer.id) ?? []), issuer.jwk()]);
  return { issuers: [...byId].map(([id, keys]) => ({ id, name: id, keys })), fleet };
}
