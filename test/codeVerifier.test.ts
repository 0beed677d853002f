import { randomBytes } from 'node:crypto';
import { encode } from 'cborg';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeBase45 } from '../src/core/credentials/base45.js';
import { Tagged } from '../src/core/credentials/cbor.js';
import { CodeVerifier, type CodeCheckTime } from '../src/core/credentials/codeVerifier.js';
import type { CoseAlg } from '../src/core/credentials/cose.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import type { RefusalReason } from '../src/core/reasons.js';
import {
  claimsMap,
  codeText,
  coseKeyOf,
  coseSign1,
  makeKeyPair,
  TestHolder,
  TestIssuer,
  type ClaimSet,
  type KeyPair,
  type SignOptions,
} from '../sim/issuer.js';
import { assembleSign1, cborMapOf, codeTime, NOW, RawCbor, rawSign1, refusalFrom, sign1Parts, trustOf } from './fixtures.js';

/*
 * CodeVerifier: the CG1 text of DESIGN.md §2, both profiles, both algorithms.
 * Every refusal asserts its exact reason; where several checks share
 * `malformed`, the detail is matched too, so that removing one check fails
 * its own case rather than falling through to a neighbour's.
 */

const ALGS: CoseAlg[] = ['ES256', 'EdDSA'];
const other = (alg: CoseAlg): CoseAlg => (alg === 'ES256' ? 'EdDSA' : 'ES256');

const issuers: Record<CoseAlg, TestIssuer> = {
  ES256: new TestIssuer('cq.yukuaima', 'ES256'),
  EdDSA: new TestIssuer('sc.tianfu', 'EdDSA'),
};
const es = issuers.ES256;
const stranger = new TestIssuer('xx.not-trusted', 'ES256');
const trust = trustOf([issuers.ES256, issuers.EdDSA]);
const CTI = Uint8Array.from(Buffer.from('00112233445566778899aabbccddeeff', 'hex'));

let verifier: CodeVerifier;
beforeEach(() => {
  verifier = new CodeVerifier(trust);
});

function verify(text: string, time: CodeCheckTime = codeTime()) {
  return verifier.verify(text, time);
}

function refused(text: string, reason: RefusalReason, time: CodeCheckTime = codeTime()) {
  const refusal = refusalFrom(() => verify(text, time));
  expect(refusal.reason, refusal.detail).toBe(reason);
  return refusal;
}

/** The claims of a valid issuer-signed code, as a map the test may then break. */
function claimsFor(issuer: TestIssuer, extra: Partial<ClaimSet> = {}): Map<number, unknown> {
  return claimsMap({ iss: issuer.id, sub: 'acct-1', exp: NOW + 120, iat: NOW, cti: CTI, category: 'adult', ...extra });
}

/** A code signed for real by `issuer` over exactly these claims. */
function signedCode(issuer: TestIssuer, claims: Map<unknown, unknown> | Uint8Array, options: SignOptions = {}): string {
  const payload = claims instanceof Uint8Array ? claims : encode(claims);
  return codeText(coseSign1(issuer.key, payload, { kid: issuer.kid, ...options }));
}

function validCose(issuer: TestIssuer = es): Uint8Array {
  return coseSign1(issuer.key, encode(claimsFor(issuer)), { kid: issuer.kid });
}

const textOf = (cose: Uint8Array): string => codeText(cose);
const identityOf = (issuer: TestIssuer, subject = 'acct-1', category = 'adult') => ({ issuer: issuer.id, subject, category });

describe('issuer-signed codes (profile a)', () => {
  describe.each(ALGS)('%s', (alg) => {
    const issuer = issuers[alg];

    it('is accepted, with the credential the decider needs', () => {
      const credential = verify(signedCode(issuer, claimsFor(issuer, { category: 'student' })));
      expect(credential).toEqual({
        kind: 'code',
        profile: 'issuer',
        issuer: issuer.id,
        subject: 'acct-1',
        category: 'student',
        product: undefined,
        cti: '00112233445566778899aabbccddeeff',
        replay: { key: `cti:${issuer.id}:00112233445566778899aabbccddeeff`, until: (NOW + 120 + 30) * 1000 },
      });
    });

    it('made by TestIssuer.issuerCode is accepted', () => {
      expect(verify(issuer.issuerCode({ sub: 'acct-2', iat: NOW })).subject).toBe('acct-2');
    });

    it('carries its product; entries default to 1 and unknown product fields are ignored', () => {
      const product = { site: 'cq-metro-l2', zone: 'Z1', from: NOW - 10, until: NOW + 3600, entries: 3 };
      expect(verify(signedCode(issuer, claimsFor(issuer, { product }))).product).toEqual(product);
      const bare = claimsFor(issuer);
      bare.set(-65538, new Map<unknown, unknown>([['site', 'venue-9'], ['seat', 'A12'], [7, 'x']]));
      expect(verify(signedCode(issuer, bare)).product).toEqual({ site: 'venue-9', entries: 1 });
    });

    it.each(['adult', 'senior', 'student', 'child', 'disabled', 'staff'])('accepts the holder category %s', (category) => {
      expect(verify(signedCode(issuer, claimsFor(issuer, { category }))).category).toBe(category);
    });

    it('matches a trust-list kid written with base64 padding (padding is not part of the kid)', () => {
      const padded = { ...issuer.jwk(), kid: `${Buffer.from(issuer.kid).toString('base64url')}==` };
      const v = new CodeVerifier(TrustStore.fromDocument({ issuers: [{ id: issuer.id, keys: [padded] }] }));
      expect(v.verify(signedCode(issuer, claimsFor(issuer)), codeTime()).issuer).toBe(issuer.id);
    });
  });
});

describe('malformed codes', () => {
  describe('text and base45', () => {
    it.each([
      ['no prefix', (b45: string) => b45],
      ['a lowercase prefix', (b45: string) => `cg1:${b45}`],
      ['another version', (b45: string) => `CG2:${b45}`],
      ['another scheme', (b45: string) => `HC1:${b45}`],
      ['a leading space', (b45: string) => ` CG1:${b45}`],
    ])('%s', (_what, make) => {
      expect(refused(make(encodeBase45(validCose())), 'malformed').detail).toMatch(/CG1:/);
    });

    it('a character outside the base45 alphabet', () => {
      const text = textOf(validCose());
      expect(refused(`${text.slice(0, 10)}a${text.slice(11)}`, 'malformed').detail).toMatch(/^base45/);
    });

    it('a base45 length that leaves a single character', () => {
      expect(refused(`${textOf(validCose())}0`, 'malformed').detail).toMatch(/^base45/);
    });

    it('a base45 group above 65535', () => {
      expect(refused(`CG1:GGW${encodeBase45(validCose())}`, 'malformed').detail).toMatch(/^base45/);
    });

    it('nothing after the prefix', () => {
      refused('CG1:', 'malformed');
    });

    it('more text than a QR code holds, even if it would decode', () => {
      const padded = `${textOf(validCose())}${'0'.repeat(4296)}`;
      expect(refused(padded, 'malformed').detail).toMatch(/longer than a QR code holds/);
    });
  });

  describe('CBOR and COSE_Sign1 structure', () => {
    it('truncated CBOR (last byte, half)', () => {
      const cose = validCose();
      refused(textOf(cose.subarray(0, cose.length - 1)), 'malformed');
      refused(textOf(cose.subarray(0, cose.length >> 1)), 'malformed');
    });

    it('trailing bytes after the COSE_Sign1', () => {
      const cose = validCose();
      refused(textOf(Buffer.concat([cose, Uint8Array.of(0x00)])), 'malformed');
      refused(textOf(Buffer.concat([cose, cose])), 'malformed');
    });

    it.each(ALGS)('an untagged COSE_Sign1 (%s), although its signature is good: the QR contract wants tag 18', (alg) => {
      const issuer = issuers[alg];
      const untagged = coseSign1(issuer.key, encode(claimsFor(issuer)), { kid: issuer.kid, tagged: false });
      expect(refused(textOf(untagged), 'malformed').detail).toMatch(/not tagged 18/);
    });

    it.each([
      ['tag 98 (COSE_Sign)', 98],
      ['tag 61 (CWT)', 61],
      ['tag 17 (COSE_Mac0)', 17],
    ])('the wrong tag: %s', (_what, tag) => {
      refused(textOf(assembleSign1(sign1Parts(validCose()), tag)), 'malformed');
    });

    it('tag 18 around tag 18, and tag 61 around tag 18', () => {
      const parts = sign1Parts(validCose());
      refused(textOf(encode(new Tagged(18, new Tagged(18, parts)))), 'malformed');
      refused(textOf(encode(new Tagged(61, new Tagged(18, parts)))), 'malformed');
    });

    it.each([
      ['3 elements', (p: unknown[]) => p.slice(0, 3)],
      ['5 elements', (p: unknown[]) => [...p, new Uint8Array(0)]],
      ['no elements', () => []],
      ['a map instead of an array', (p: unknown[]) => new Map(p.map((v, i) => [i, v]))],
      ['a byte string instead of an array', () => new Uint8Array(4)],
    ])('a COSE_Sign1 of the wrong shape: %s', (_what, shape) => {
      expect(refused(textOf(rawSign1(es.key, encode(claimsFor(es)), { kid: es.kid, shape })), 'malformed').detail).toMatch(
        /array of 4/,
      );
    });

    it.each([
      ['protected header as a map rather than bytes', 0, new Map([[1, -7]]), /protected header is not a byte string/],
      ['unprotected header not a map', 1, [], /unprotected header is not a map/],
      ['detached payload (nil)', 2, null, /payload is not a byte string/],
      ['signature as text', 3, 'signature', /signature is not a byte string/],
    ])('%s', (_what, index, value, detail) => {
      const shape = (p: unknown[]) => p.map((v, i) => (i === index ? value : v));
      expect(refused(textOf(rawSign1(es.key, encode(claimsFor(es)), { kid: es.kid, shape })), 'malformed').detail).toMatch(detail);
    });
  });

  describe('protected header', () => {
    const payload = () => encode(claimsFor(es));
    const withHeader = (header: Map<unknown, unknown> | Uint8Array) =>
      textOf(rawSign1(es.key, payload(), { protectedBytes: header instanceof Uint8Array ? header : encode(header) }));

    it('not a map (an array, a number, not CBOR at all)', () => {
      expect(refused(withHeader(encode([1, -7, 4, es.kid])), 'malformed').detail).toMatch(/protected header is not a map/);
      expect(refused(withHeader(encode(-7)), 'malformed').detail).toMatch(/protected header is not a map/);
      refused(withHeader(Uint8Array.of(0xff)), 'malformed');
    });

    it('no alg (kid only; and an empty protected header)', () => {
      expect(refused(withHeader(new Map<number, unknown>([[4, es.kid]])), 'malformed').detail).toMatch(/no alg/);
      expect(refused(withHeader(new Uint8Array(0)), 'malformed').detail).toMatch(/no alg/);
    });

    it('alg only in the unprotected header', () => {
      const text = textOf(rawSign1(es.key, payload(), { protectedBytes: encode(new Map([[4, es.kid]])), unprotected: new Map([[1, -7]]) }));
      expect(refused(text, 'malformed').detail).toMatch(/no alg/);
    });

    it.each([
      ['ES384 (-35)', -35],
      ['ES512 (-36)', -36],
      ['RS256 (-257)', -257],
      ['PS256 (-37)', -37],
      ['a positive label (7)', 7],
      ['the name as text', 'ES256'],
    ])('an algorithm the gate does not accept: %s', (_what, alg) => {
      const header = new Map<number, unknown>([[1, alg], [4, es.kid]]);
      expect(refused(withHeader(header), 'malformed').detail).toMatch(/is not accepted/);
    });

    it('critical header parameters', () => {
      const header = new Map<number, unknown>([[1, -7], [2, [-70000]], [4, es.kid]]);
      expect(refused(withHeader(header), 'malformed').detail).toMatch(/critical/);
    });

    it('a kid that is not a byte string', () => {
      const header = new Map<number, unknown>([[1, -7], [4, Buffer.from(es.kid).toString('base64url')]]);
      expect(refused(withHeader(header), 'malformed').detail).toMatch(/kid is not a byte string/);
    });

    it('a duplicate label (the later kid is the right one)', () => {
      const header = cborMapOf([
        [1, -7],
        [4, randomBytes(8)],
        [4, es.kid],
      ]);
      expect(refused(withHeader(header), 'malformed').detail).toMatch(/repeat map key/);
    });
  });

  describe('payload and claims', () => {
    it.each([
      ['an array', encode([1, 'cq.yukuaima'])],
      ['text', encode('cq.yukuaima')],
      ['a number', encode(42)],
      ['not CBOR', Uint8Array.of(0xff, 0x00)],
      ['a map followed by trailing bytes', Buffer.concat([encode(claimsFor(es)), Uint8Array.of(0xf6)])],
    ])('a payload that is not a single map: %s', (_what, payload) => {
      refused(signedCode(es, payload), 'malformed');
    });

    it.each([
      ['iss', 1, /iss/],
      ['sub', 2, /sub/],
      ['exp', 4, /exp/],
      ['iat', 6, /iat/],
      ['cti', 7, /cti/],
      ['category', -65537, /category/],
    ])('a missing %s', (_name, label, detail) => {
      const claims = claimsFor(es);
      claims.delete(label);
      expect(refused(signedCode(es, claims), 'malformed').detail).toMatch(detail);
    });

    it.each([
      ['iss as a number', 1, 42],
      ['iss empty', 1, ''],
      ['sub as a number', 2, 31010000],
      ['sub empty', 2, ''],
      ['exp as text', 4, '2027-01-15T08:00:00Z'],
      ['exp NaN', 4, NaN],
      ['exp infinite', 4, Infinity],
      ['exp null', 4, null],
      ['iat as text', 6, 'now'],
      ['nbf as bytes', 5, Uint8Array.of(1)],
      ['cti as text', 7, '00112233'],
      ['category as a number', -65537, 1],
      ['category as a bigint (JSON cannot show it)', -65537, 2n ** 64n - 1n],
      ['category as a map', -65537, new Map([['adult', true]])],
    ])('a claim of the wrong type: %s', (_what, label, value) => {
      const claims = claimsFor(es);
      claims.set(label, value);
      const refusal = refused(signedCode(es, claims), 'malformed');
      expect(refusal.detail).not.toMatch(/^unexpected/);
    });

    it.each(['pensioner', 'Adult', 'ADULT', 'adult ', ''])('an unknown holder category %j', (category) => {
      expect(refused(signedCode(es, claimsFor(es, { category })), 'malformed').detail).toMatch(/category/);
    });

    it('duplicate claim labels (the later sub would otherwise win)', () => {
      const entries = [...claimsFor(es)].flatMap(([k, v]): Array<readonly [unknown, unknown]> => (k === 2 ? [[2, 'acct-1'], [2, 'acct-2']] : [[k, v]]));
      expect(refused(signedCode(es, cborMapOf(entries)), 'malformed').detail).toMatch(/repeat map key/);
    });

    it('duplicate keys in the product map (the later site would otherwise win)', () => {
      const product = cborMapOf([
        ['site', 'elsewhere'],
        ['site', 'cq-metro-l2'],
      ]);
      const payload = cborMapOf([...claimsFor(es), [-65538, new RawCbor(product)]]);
      expect(refused(signedCode(es, payload), 'malformed').detail).toMatch(/repeat map key/);
    });

    it.each([
      ['not a map', []],
      ['site as a number', new Map([['site', 7]])],
      ['site empty', new Map([['site', '']])],
      ['zone as a number', new Map([['zone', 1]])],
      ['from as text', new Map([['from', 'today']])],
      ['until as bytes', new Map([['until', Uint8Array.of(1)]])],
      ['entries negative', new Map([['entries', -1]])],
      ['entries fractional', new Map([['entries', 1.5]])],
      ['entries as text', new Map([['entries', 'two']])],
      ['entries beyond 2^53', new Map([['entries', 2n ** 64n - 1n]])],
    ])('a product with the wrong types: %s', (_what, product) => {
      const claims = claimsFor(es);
      claims.set(-65538, product);
      expect(refused(signedCode(es, claims), 'malformed').detail).toMatch(/product/);
    });

    it('an issuer-signed credential that binds a key (a card certificate, an inner credential) shown as a code', () => {
      const claims = claimsFor(es, { cnf: coseKeyOf(makeKeyPair('ES256')) });
      expect(refused(signedCode(es, claims), 'malformed').detail).toMatch(/cnf/);
    });
  });

  it('malformed refusals name nobody', () => {
    const claims = claimsFor(es);
    claims.delete(7);
    expect(refused(signedCode(es, claims), 'malformed').identity).toBeUndefined();
  });
});

describe('issuers and keys', () => {
  it('an issuer not in the trust list is unknown-issuer', () => {
    const refusal = refused(stranger.issuerCode({ sub: 'acct-1', iat: NOW }), 'unknown-issuer');
    expect(refusal.identity).toBeUndefined();
  });

  it("an issuer id that differs only in case is another issuer", () => {
    refused(signedCode(es, claimsFor(es, { iss: 'CQ.YUKUAIMA' })), 'unknown-issuer');
  });

  it.each(ALGS)('%s: an unknown kid, no kid, or the kid of another issuer is unknown-key', (alg) => {
    const issuer = issuers[alg];
    refused(issuer.issuerCode({ sub: 'a', iat: NOW }, { kid: randomBytes(8) }), 'unknown-key');
    refused(issuer.issuerCode({ sub: 'a', iat: NOW }, { kid: undefined }), 'unknown-key');
    refused(issuer.issuerCode({ sub: 'a', iat: NOW }, { kid: issuers[other(alg)].kid }), 'unknown-key');
    refused(issuer.issuerCode({ sub: 'a', iat: NOW }, { kid: new Uint8Array(0) }), 'unknown-key');
  });

  it('takes the kid from the unprotected header when the protected one has none (docs/credentials.md)', () => {
    const text = textOf(
      rawSign1(es.key, encode(claimsFor(es)), { protectedBytes: encode(new Map([[1, -7]])), unprotected: new Map([[4, es.kid]]) }),
    );
    expect(verify(text).issuer).toBe(es.id);
  });

  describe.each(ALGS)('%s key rotation by JWK nbf/exp (skew 30 s)', (alg) => {
    const issuer = issuers[alg];
    const withValidity = (validity: { nbf?: number; exp?: number }) =>
      new CodeVerifier(TrustStore.fromDocument({ issuers: [{ id: issuer.id, keys: [issuer.jwk(validity)] }] }));
    const code = () => signedCode(issuer, claimsFor(issuer));

    it.each([
      ['retired 31 s ago', { exp: NOW - 31 }],
      ['retired exactly skew ago', { exp: NOW - 30 }],
      ['in force only from 31 s on', { nbf: NOW + 31 }],
      ['in force only from an hour on', { nbf: NOW + 3600 }],
    ])('a key %s is unknown-key', (_what, validity) => {
      const refusal = refusalFrom(() => withValidity(validity).verify(code(), codeTime()));
      expect(refusal.reason).toBe('unknown-key');
    });

    it.each([
      ['retired 29 s ago', { exp: NOW - 29 }],
      ['in force from 29 s on', { nbf: NOW + 29 }],
      ['in force now', { nbf: NOW - 86_400, exp: NOW + 86_400 }],
    ])('a key %s is still used', (_what, validity) => {
      expect(withValidity(validity).verify(code(), codeTime()).issuer).toBe(issuer.id);
    });

    it('an old and a new key side by side: codes of the retired one are refused, the new one accepted', () => {
      const next = new TestIssuer(issuer.id, alg);
      const v = new CodeVerifier(
        TrustStore.fromDocument({ issuers: [{ id: issuer.id, keys: [issuer.jwk({ exp: NOW - 3600 }), next.jwk({ nbf: NOW - 3600 })] }] }),
      );
      expect(refusalFrom(() => v.verify(code(), codeTime())).reason).toBe('unknown-key');
      expect(v.verify(signedCode(next, claimsFor(next)), codeTime()).issuer).toBe(issuer.id);
    });
  });
});

describe('signatures', () => {
  describe.each(ALGS)('%s', (alg) => {
    const issuer = issuers[alg];
    const parts = () => sign1Parts(validCose(issuer));

    it('a flipped bit in the signature is bad-signature and names nobody', () => {
      const [p, u, payload, signature] = parts();
      const flipped = Uint8Array.from(signature);
      flipped[10]! ^= 0x01;
      const refusal = refused(textOf(assembleSign1([p, u, payload, flipped])), 'bad-signature');
      expect(refusal.identity).toBeUndefined();
    });

    it.each([
      ['63 bytes', (s: Uint8Array) => s.subarray(0, 63)],
      ['65 bytes', (s: Uint8Array) => Buffer.concat([s, Uint8Array.of(0)])],
      ['empty', () => new Uint8Array(0)],
      ['all zero', () => new Uint8Array(64)],
    ])('a signature of %s is bad-signature', (_what, change) => {
      const [p, u, payload, signature] = parts();
      refused(textOf(assembleSign1([p, u, payload, change(signature)])), 'bad-signature');
    });

    it('claims changed after signing (another subject) are bad-signature', () => {
      const [p, u, , signature] = parts();
      const forged = encode(claimsFor(issuer, { sub: 'acct-9' }));
      refused(textOf(assembleSign1([p, u, forged, signature])), 'bad-signature');
    });

    it('a protected header changed after signing is bad-signature', () => {
      const [, u, payload, signature] = parts();
      const header = encode(new Map<number, unknown>([[1, issuer.key.alg === 'ES256' ? -7 : -8], [4, issuer.kid], [3, 61]]));
      refused(textOf(assembleSign1([header, u, payload, signature])), 'bad-signature');
    });

    it('a code signed by an impostor under the same issuer id and kid is bad-signature', () => {
      const refusal = refused(issuer.impostor().issuerCode({ sub: 'acct-1', iat: NOW }), 'bad-signature');
      expect(refusal.identity).toBeUndefined();
    });

    it('a header alg that disagrees with the key is bad-signature, even when the signature is the key\'s own', () => {
      refused(issuer.issuerCode({ sub: 'acct-1', iat: NOW }, { alg: other(alg) }), 'bad-signature');
    });

    it('a signature by a key of the other algorithm under this kid is bad-signature', () => {
      const forger = new TestIssuer(issuer.id, other(alg), issuer.kid);
      refused(forger.issuerCode({ sub: 'acct-1', iat: NOW }), 'bad-signature');
    });
  });

  it('ES256: a DER-encoded signature (not r||s) is bad-signature', () => {
    const [p, u, payload, signature] = sign1Parts(validCose(es));
    const int = (b: Uint8Array) => {
      let v = Buffer.from(b);
      while (v.length > 1 && v[0] === 0 && v[1]! < 0x80) v = v.subarray(1);
      if (v[0]! >= 0x80) v = Buffer.concat([Uint8Array.of(0), v]);
      return Buffer.concat([Uint8Array.of(0x02, v.length), v]);
    };
    const body = Buffer.concat([int(signature.subarray(0, 32)), int(signature.subarray(32))]);
    const der = Buffer.concat([Uint8Array.of(0x30, body.length), body]);
    refused(textOf(assembleSign1([p, u, payload, der])), 'bad-signature');
  });
});

describe('validity times (skew 30 s)', () => {
  describe.each(ALGS)('%s', (alg) => {
    const issuer = issuers[alg];
    const at = (extra: Partial<ClaimSet>) => signedCode(issuer, claimsFor(issuer, extra));

    it.each([
      ['exp 31 s ago', { iat: NOW - 300, exp: NOW - 31 }],
      ['exp exactly skew ago', { iat: NOW - 300, exp: NOW - 30 }],
      ['exp a day ago', { iat: NOW - 90_000, exp: NOW - 86_400 }],
    ])('%s is expired and names the holder', (_what, extra) => {
      const refusal = refused(at(extra), 'expired');
      expect(refusal.identity).toEqual(identityOf(issuer));
    });

    it.each([
      ['nbf in 31 s', { nbf: NOW + 31 }],
      ['iat in 31 s', { iat: NOW + 31, exp: NOW + 300 }],
    ])('%s is not-yet-valid and names the holder', (_what, extra) => {
      const refusal = refused(at(extra), 'not-yet-valid');
      expect(refusal.identity).toEqual(identityOf(issuer));
    });

    it.each([
      ['exp 29 s ago', { iat: NOW - 300, exp: NOW - 29 }],
      ['nbf in 29 s', { nbf: NOW + 29 }],
      ['iat in 29 s', { iat: NOW + 29, exp: NOW + 300 }],
    ])('%s is within the skew and accepted', (_what, extra) => {
      expect(verify(at(extra)).issuer).toBe(issuer.id);
    });

    it('the skew is configurable: with none, a code is expired at its exp', () => {
      const noSkew = codeTime({ skewSec: 0 });
      refused(at({ iat: NOW - 60, exp: NOW }), 'expired', noSkew);
      expect(verify(at({ iat: NOW - 60, exp: NOW + 1 }), noSkew).issuer).toBe(issuer.id);
      refused(at({ nbf: NOW + 1 }), 'not-yet-valid', noSkew);
    });

    it('leaves the product window to the gate rules: a ticket outside it still verifies', () => {
      expect(verify(at({ product: { from: NOW + 86_400, until: NOW + 90_000 } })).product).toEqual({ from: NOW + 86_400, until: NOW + 90_000, entries: 1 });
      expect(verify(at({ product: { until: NOW - 3600 } })).issuer).toBe(issuer.id);
    });

    it('an issuer-signed code has no freshness window: an hour-old iat with a later exp is accepted', () => {
      expect(verify(at({ iat: NOW - 3600, exp: NOW + 60 })).issuer).toBe(issuer.id);
    });
  });
});

/* ---------------------------------------------------------------------------------------------- */

function enrol(issuer: TestIssuer, holderAlg: CoseAlg, claims: Partial<ClaimSet> = {}): TestHolder {
  return TestHolder.enrol(issuer, { sub: 'holder-1', iat: NOW - 86_400, cti: CTI, category: 'senior', ...claims }, holderAlg);
}

/** An offline code with any payload values, signed by `key`. */
function offlineCode(key: KeyPair, inner: unknown, iat: unknown, counter: unknown, options: SignOptions = {}): string {
  return codeText(coseSign1(key, encode(new Map<number, unknown>([[1, inner], [2, iat], [3, counter]])), options));
}

/** An inner credential signed for real over exactly these claims. */
function innerOf(issuer: TestIssuer, claims: Map<number, unknown>, options: SignOptions = {}): Uint8Array {
  return coseSign1(issuer.key, encode(claims), { kid: issuer.kid, ...options });
}

function innerClaims(issuer: TestIssuer, holderKey: KeyPair, extra: Partial<ClaimSet> = {}): Map<number, unknown> {
  return claimsMap({ iss: issuer.id, sub: 'holder-1', exp: NOW + 86_400, iat: NOW - 86_400, cti: CTI, category: 'senior', cnf: coseKeyOf(holderKey), ...extra });
}

describe('holder-bound offline codes (profile b)', () => {
  const combos = ALGS.flatMap((issuerAlg) => ALGS.map((holderAlg) => [issuerAlg, holderAlg] as const));

  describe.each(combos)('issuer %s, holder %s', (issuerAlg, holderAlg) => {
    const issuer = issuers[issuerAlg];

    it('is accepted, with a replay key from its holder signature (see test/securityTickets.test.ts)', () => {
      const holder = enrol(issuer, holderAlg, { product: { zone: 'Z1' } });
      const credential = verify(holder.offlineCode(NOW - 5, { counter: 7 }));
      expect(credential).toEqual({
        kind: 'code',
        profile: 'holder',
        issuer: issuer.id,
        subject: 'holder-1',
        category: 'senior',
        product: { zone: 'Z1', entries: 1 },
        cti: '00112233445566778899aabbccddeeff',
        replay: { key: expect.stringMatching(/^code:[A-Za-z0-9_-]{43}$/), until: (NOW - 5 + 60 + 30) * 1000 },
      });
    });

    it('accepts an untagged inner credential (only the QR itself must be tagged)', () => {
      const key = makeKeyPair(holderAlg);
      const holder = new TestHolder(issuer.boundCredential(key, { sub: 'holder-1', iat: NOW - 60 }, { tagged: false }), key);
      expect(verify(holder.offlineCode(NOW)).profile).toBe('holder');
    });

    it('accepts an inner credential without cti or iat (they are optional there)', () => {
      const key = makeKeyPair(holderAlg);
      const claims = innerClaims(issuer, key);
      claims.delete(6);
      claims.delete(7);
      expect(verify(offlineCode(key, innerOf(issuer, claims), NOW, 0)).cti).toBeUndefined();
    });

    it('an outer code not tagged 18 is malformed', () => {
      const holder = enrol(issuer, holderAlg);
      expect(refused(holder.offlineCode(NOW, { tagged: false }), 'malformed').detail).toMatch(/not tagged 18/);
    });

    describe('freshness (60 s) and the code iat', () => {
      it.each([
        ['61 s old', NOW - 61],
        ['an hour old', NOW - 3600],
      ])('a code generated %s is stale and names the holder', (_what, iat) => {
        const refusal = refused(enrol(issuer, holderAlg).offlineCode(iat), 'stale');
        expect(refusal.identity).toEqual(identityOf(issuer, 'holder-1', 'senior'));
      });

      it('a code exactly 60 s old is still fresh', () => {
        expect(verify(enrol(issuer, holderAlg).offlineCode(NOW - 60)).profile).toBe('holder');
      });

      it('the window is configurable', () => {
        const holder = enrol(issuer, holderAlg);
        refused(holder.offlineCode(NOW - 11), 'stale', codeTime({ freshnessSec: 10 }));
        expect(verify(holder.offlineCode(NOW - 10), codeTime({ freshnessSec: 10 })).profile).toBe('holder');
      });

      it('a code generated more than the skew in the future is not-yet-valid; within the skew it is accepted', () => {
        const holder = enrol(issuer, holderAlg);
        expect(refused(holder.offlineCode(NOW + 31), 'not-yet-valid').identity).toEqual(identityOf(issuer, 'holder-1', 'senior'));
        expect(verify(holder.offlineCode(NOW + 29)).profile).toBe('holder');
      });
    });

    describe('the holder (outer) signature', () => {
      it('a code signed by another key than the bound one is bad-signature and names nobody', () => {
        const holder = enrol(issuer, holderAlg);
        const refusal = refused(holder.offlineCode(NOW, { signWith: makeKeyPair(holderAlg) }), 'bad-signature');
        expect(refusal.identity).toBeUndefined();
      });

      it("a code signed with the issuer's key instead of the holder's is bad-signature", () => {
        const holder = enrol(issuer, holderAlg);
        refused(holder.offlineCode(NOW, { signWith: issuer.key }), 'bad-signature');
      });

      it('a header alg that disagrees with the cnf key is bad-signature', () => {
        refused(enrol(issuer, holderAlg).offlineCode(NOW, { alg: other(holderAlg) }), 'bad-signature');
      });

      it('a counter or iat changed after signing is bad-signature', () => {
        const holder = enrol(issuer, holderAlg);
        const signed = coseSign1(holder.key, encode(new Map<number, unknown>([[1, holder.credential], [2, NOW], [3, 1]])));
        const [p, u, , signature] = sign1Parts(signed);
        const forged = encode(new Map<number, unknown>([[1, holder.credential], [2, NOW], [3, 2]]));
        refused(textOf(assembleSign1([p, u, forged, signature])), 'bad-signature');
        const older = encode(new Map<number, unknown>([[1, holder.credential], [2, NOW - 1], [3, 1]]));
        refused(textOf(assembleSign1([p, u, older, signature])), 'bad-signature');
        expect(verify(textOf(signed)).profile).toBe('holder');
      });
    });

    describe('the inner credential', () => {
      it('signed by an impostor under the issuer id and kid is bad-signature', () => {
        const key = makeKeyPair(holderAlg);
        const forged = issuer.impostor().boundCredential(key, { sub: 'holder-1', iat: NOW - 60 });
        const refusal = refused(new TestHolder(forged, key).offlineCode(NOW), 'bad-signature');
        expect(refusal.identity).toBeUndefined();
      });

      it('with a header alg that disagrees with the issuer key is bad-signature', () => {
        const key = makeKeyPair(holderAlg);
        const inner = issuer.boundCredential(key, { sub: 'holder-1', iat: NOW - 60 }, { alg: other(issuerAlg) });
        refused(new TestHolder(inner, key).offlineCode(NOW), 'bad-signature');
      });

      it('from an issuer not in the trust list is unknown-issuer', () => {
        refused(TestHolder.enrol(stranger, { sub: 'holder-1', iat: NOW - 60 }, holderAlg).offlineCode(NOW), 'unknown-issuer');
      });

      it('with an unknown kid, or none, is unknown-key', () => {
        const key = makeKeyPair(holderAlg);
        const unknownKid = issuer.boundCredential(key, { sub: 'holder-1', iat: NOW - 60 }, { kid: randomBytes(8) });
        refused(new TestHolder(unknownKid, key).offlineCode(NOW), 'unknown-key');
        const noKid = issuer.boundCredential(key, { sub: 'holder-1', iat: NOW - 60 }, { kid: undefined });
        refused(new TestHolder(noKid, key).offlineCode(NOW), 'unknown-key');
      });

      it('under a retired issuer key is unknown-key', () => {
        const retired = new CodeVerifier(TrustStore.fromDocument({ issuers: [{ id: issuer.id, keys: [issuer.jwk({ exp: NOW - 3600 })] }] }));
        const refusal = refusalFrom(() => retired.verify(enrol(issuer, holderAlg).offlineCode(NOW), codeTime()));
        expect(refusal.reason).toBe('unknown-key');
      });

      it.each([
        ['expired', { exp: NOW - 31 }, 'expired'],
        ['not valid before tomorrow (nbf)', { nbf: NOW + 86_400 }, 'not-yet-valid'],
        ['issued in the future (iat)', { iat: NOW + 3600 }, 'not-yet-valid'],
      ] as const)('%s is refused (%s... reason) and names the holder', (_what, extra, reason) => {
        const refusal = refused(enrol(issuer, holderAlg, extra).offlineCode(NOW), reason);
        expect(refusal.identity).toEqual(identityOf(issuer, 'holder-1', 'senior'));
      });
    });
  });

  describe('malformed offline codes', () => {
    const issuer = es;
    const key = makeKeyPair('ES256');
    const inner = () => innerOf(issuer, innerClaims(issuer, key));

    it.each([
      ['iat missing', undefined, 0, /iat/],
      ['iat as text', 'now', 0, /iat/],
      ['iat NaN', NaN, 0, /iat/],
      ['counter missing', NOW, undefined, /counter/],
      ['counter negative', NOW, -1, /counter/],
      ['counter fractional', NOW, 1.5, /counter/],
      ['counter as text', NOW, '1', /counter/],
    ])('%s', (_what, iat, counter, detail) => {
      const payload = new Map<number, unknown>([[1, inner()]]);
      if (iat !== undefined) payload.set(2, iat);
      if (counter !== undefined) payload.set(3, counter);
      expect(refused(codeText(coseSign1(key, encode(payload))), 'malformed').detail).toMatch(detail);
    });

    it('an inner credential that is not CBOR, or not a COSE_Sign1', () => {
      refused(offlineCode(key, Uint8Array.of(0xff, 0xfe), NOW, 0), 'malformed');
      refused(offlineCode(key, encode([1, 2, 3, 4]), NOW, 0), 'malformed');
      refused(offlineCode(key, encode(new Uint8Array(0)), NOW, 0), 'malformed');
    });

    it.each([
      ['an array', encode([1, 'cq.yukuaima'])],
      ['text', encode('claims')],
      ['not CBOR', Uint8Array.of(0xff)],
    ])('an inner credential whose claims are %s', (_what, claims) => {
      expect(refused(offlineCode(key, coseSign1(issuer.key, claims, { kid: issuer.kid }), NOW, 0), 'malformed').detail).toMatch(
        /inner credential/,
      );
    });

    it('an inner credential under the wrong tag (98)', () => {
      refused(offlineCode(key, assembleSign1(sign1Parts(inner()), 98), NOW, 0), 'malformed');
    });

    it('duplicate labels in the offline payload (the later counter would otherwise win)', () => {
      const payload = cborMapOf([
        [1, inner()],
        [2, NOW],
        [3, 1],
        [3, 2],
      ]);
      refused(codeText(coseSign1(key, payload)), 'malformed');
    });

    it.each([
      ['iss', 1],
      ['sub', 2],
      ['exp', 4],
      ['category', -65537],
      ['cnf', 8],
    ])('an inner credential without %s', (name, label) => {
      const claims = innerClaims(issuer, key);
      claims.delete(label);
      expect(refused(offlineCode(key, innerOf(issuer, claims), NOW, 0), 'malformed').detail).toMatch(new RegExp(name));
    });

    describe('the cnf key', () => {
      const full = coseKeyOf(key);
      const x = full.get(-2) as Uint8Array;
      const y = full.get(-3) as Uint8Array;
      const yOdd = (y[31]! & 1) === 1;
      const withCnf = (cnf: unknown) => {
        const claims = innerClaims(issuer, key);
        claims.set(8, cnf);
        return offlineCode(key, innerOf(issuer, claims), NOW, 0);
      };
      const withKey = (entries: Array<[number, unknown]>) => withCnf(new Map([[1, new Map(entries)]]));

      it('a compressed EC2 key (y as its sign bit) is accepted', () => {
        expect(verify(withKey([[1, 2], [-1, 1], [-2, x], [-3, yOdd]])).profile).toBe('holder');
      });

      it('a compressed EC2 key with the wrong sign bit is another key: bad-signature', () => {
        refused(withKey([[1, 2], [-1, 1], [-2, x], [-3, !yOdd]]), 'bad-signature');
      });

      it('an EC2 key with alg ES256 (-7) declared is accepted', () => {
        expect(verify(withKey([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, y]])).profile).toBe('holder');
      });

      it.each([
        ['cnf not a map', 'key'],
        ['cnf without a COSE_Key (label 1)', new Map([[3, new Uint8Array(8)]])],
        ['cnf with a COSE_Key that is not a map', new Map([[1, x]])],
      ])('%s is malformed', (_what, cnf) => {
        expect(refused(withCnf(cnf), 'malformed').detail).toMatch(/cnf/);
      });

      it.each([
        ['RSA key type', [[1, 3], [-1, 1], [-2, x], [-3, y]]],
        ['EC2 on P-384', [[1, 2], [-1, 2], [-2, x], [-3, y]]],
        ['OKP on X25519', [[1, 1], [-1, 4], [-2, x]]],
        ['a point not on the curve', [[1, 2], [-1, 1], [-2, x], [-3, Uint8Array.from(y, (b, i) => (i === 31 ? b ^ 1 : b))]]],
        ['a compressed x with no point on P-256', [[1, 2], [-1, 1], [-2, new Uint8Array(32).fill(0xff)], [-3, true]]],
        ['EC2 declaring alg EdDSA', [[1, 2], [3, -8], [-1, 1], [-2, x], [-3, y]]],
      ] as Array<[string, Array<[number, unknown]>]>)('%s is malformed', (_what, entries) => {
        refused(withKey(entries), 'malformed');
      });

      it.each([
        ['EC2 x of 31 bytes', [[1, 2], [-1, 1], [-2, x.subarray(1)], [-3, y]], /x is not 32 bytes/],
        ['EC2 x of 33 bytes', [[1, 2], [-1, 1], [-2, Uint8Array.from([0, ...x])], [-3, y]], /x is not 32 bytes/],
        ['OKP x of 31 bytes', [[1, 1], [-1, 6], [-2, x.subarray(1)]], /x is not 32 bytes/],
        ['x missing', [[1, 2], [-1, 1], [-3, y]], /x is not 32 bytes/],
        ['y of 31 bytes', [[1, 2], [-1, 1], [-2, x], [-3, y.subarray(1)]], /y is not 32 bytes/],
        ['y of 33 bytes', [[1, 2], [-1, 1], [-2, x], [-3, Uint8Array.from([0, ...y])]], /y is not 32 bytes/],
        ['y missing', [[1, 2], [-1, 1], [-2, x]], /y is not 32 bytes/],
      ] as Array<[string, Array<[number, unknown]>, RegExp]>)('%s is malformed, for its size', (_what, entries, detail) => {
        expect(refused(withKey(entries), 'malformed').detail).toMatch(detail);
      });
    });
  });

  describe('the cache of verified inner credentials', () => {
    it('a second code from a cached holder is still refused when the outer signature is bad', () => {
      const holder = enrol(es, 'ES256');
      expect(verify(holder.offlineCode(NOW)).profile).toBe('holder');
      refused(holder.offlineCode(NOW, { signWith: makeKeyPair('ES256') }), 'bad-signature');
      refused(holder.offlineCode(NOW, { alg: 'EdDSA' }), 'bad-signature');
      expect(verify(holder.offlineCode(NOW)).profile).toBe('holder');
    });

    it('a cached inner credential is checked for time again: stale codes and an expired credential are refused', () => {
      const holder = enrol(es, 'EdDSA', { exp: NOW + 100 });
      expect(verify(holder.offlineCode(NOW)).profile).toBe('holder');
      refused(holder.offlineCode(NOW - 120), 'stale');
      refused(holder.offlineCode(NOW + 200), 'expired', codeTime({ nowMs: (NOW + 200) * 1000 }));
    });

    it('once the trust list drops the issuer (setTrust), a cached inner credential is unknown-issuer', () => {
      const holder = enrol(es, 'ES256');
      expect(verify(holder.offlineCode(NOW)).issuer).toBe(es.id);
      verifier.setTrust(trustOf([issuers.EdDSA]));
      refused(holder.offlineCode(NOW), 'unknown-issuer');
    });

    it('once the trust list drops the key (setTrust), a cached inner credential is unknown-key', () => {
      const holder = enrol(es, 'ES256');
      expect(verify(holder.offlineCode(NOW)).issuer).toBe(es.id);
      verifier.setTrust(trustOf([new TestIssuer(es.id, 'ES256'), issuers.EdDSA]));
      refused(holder.offlineCode(NOW), 'unknown-key');
    });

    it('once the trust list puts another key under the same kid (setTrust), a cached inner credential is verified again', () => {
      const holder = enrol(es, 'ES256');
      expect(verify(holder.offlineCode(NOW)).issuer).toBe(es.id);
      verifier.setTrust(trustOf([es.impostor(), issuers.EdDSA]));
      refused(holder.offlineCode(NOW), 'bad-signature');
    });

    it('a cached inner credential whose issuer key retires by its JWK exp is unknown-key, without a new trust list', () => {
      const v = new CodeVerifier(TrustStore.fromDocument({ issuers: [{ id: es.id, keys: [es.jwk({ exp: NOW + 100 })] }] }));
      const holder = enrol(es, 'ES256');
      expect(v.verify(holder.offlineCode(NOW), codeTime()).issuer).toBe(es.id);
      const later = codeTime({ nowMs: (NOW + 200) * 1000 });
      expect(refusalFrom(() => v.verify(holder.offlineCode(NOW + 200), later)).reason).toBe('unknown-key');
    });

    it('an inner credential that failed is not cached: the same forged credential fails every time', () => {
      const key = makeKeyPair('ES256');
      const holder = new TestHolder(es.impostor().boundCredential(key, { sub: 'holder-1', iat: NOW - 60 }), key);
      refused(holder.offlineCode(NOW), 'bad-signature');
      refused(holder.offlineCode(NOW), 'bad-signature');
    });
  });

  it('a payload whose label 1 is neither text nor bytes is read as an issuer-signed code and refused', () => {
    const key = makeKeyPair('ES256');
    refused(offlineCode(key, new Map([[1, 'x']]), NOW, 0), 'malformed');
  });
});
