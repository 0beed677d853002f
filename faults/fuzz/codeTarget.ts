import { encode } from 'cborg';
import fc from 'fast-check';
import { encodeBase45 } from '../../src/core/credentials/base45.js';
import { Tagged } from '../../src/core/credentials/cbor.js';
import type { Decider, Decision } from '../../src/core/decider.js';
import { codeText, coseSign1 } from '../../sim/issuer.js';
import { cborBytes, cborItem, mapOf } from './cborValues.js';
import { claimMaps, nearNow } from './claimValues.js';
import { CODE_SEED_BYTES, CODE_SEEDS, HOLDERS, REPLAYED, type SignedCode } from './codeSeeds.js';
import { mutatedSign1 } from './coseMutators.js';
import { decisionOutcome } from './decisionOutcome.js';
import { charOf, mutatedBytes, mutatedText } from './mutators.js';
import type { FuzzTarget } from './target.js';
import { issuers, NOW, TIME, venueDecider } from './world.js';

/** A code's text and what a trusted key signed into it (absent: nothing trusted signed it). */
export interface CodeInput {
  text: string;
  signed: SignedCode | undefined;
}

const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
const PREFIX = 'CG1:';

function asCode(bytes: Uint8Array): string {
  return PREFIX + encodeBase45(bytes);
}

const holderKeys = HOLDERS.map((h) => h.holder.key);

/** Claims of random shape signed by the trusted issuer they name: accepted only as exactly what they say. */
const signedClaims: fc.Arbitrary<CodeInput> = fc.tuple(claimMaps(holderKeys), fc.nat({ max: 9 }), fc.boolean()).map(([claims, keepCnf, tagged]) => {
  // Most issuer codes carry no holder key; the few that do must be refused.
  if (keepCnf > 0) claims.delete(8);
  const issuer = claims.get(1) === issuers.ed.id ? issuers.ed : issuers.es;
  const text = codeText(coseSign1(issuer.key, cborBytes(claims), { kid: issuer.kid, tagged }));
  return { text, signed: signedContent(claims) };
});

function signedContent(claims: Map<unknown, unknown>): SignedCode {
  const cti = claims.get(7);
  return { issuer: String(claims.get(1)), subject: String(claims.get(2)), cti: cti instanceof Uint8Array ? Buffer.from(cti).toString('hex') : undefined };
}

/** An inner credential: a genuine one, or claims of random shape (a random `cnf` key among them) signed by the issuer. */
const innerCredential: fc.Arbitrary<{ bytes: Uint8Array; signed: SignedCode | undefined; holder: number }> = fc.oneof(
  fc.nat({ max: HOLDERS.length - 1 }).map((holder) => ({ bytes: HOLDERS[holder]!.holder.credential, signed: HOLDERS[holder]!.signed, holder })),
  fc.tuple(claimMaps(holderKeys), fc.nat({ max: HOLDERS.length - 1 })).map(([claims, holder]) => {
    const issuer = claims.get(1) === issuers.ed.id ? issuers.ed : issuers.es;
    return { bytes: coseSign1(issuer.key, cborBytes(claims), { kid: issuer.kid }), signed: signedContent(claims), holder };
  }),
);

/** Offline codes signed by a genuine holder key, with random iat, counter and extras. */
const signedHolderCodes: fc.Arbitrary<CodeInput> = fc
  .tuple(innerCredential, mapOf([2, 3, 4], (label) => (label === 2 ? fc.oneof(nearNow(120), fc.double({ min: NOW - 120, max: NOW + 120 })) : fc.integer({ min: -3, max: 1000 }))))
  .map(([inner, payload]) => {
    payload.set(1, inner.bytes);
    return { text: codeText(coseSign1(HOLDERS[inner.holder]!.holder.key, cborBytes(payload))), signed: inner.signed };
  });

const randomCodes: fc.Arbitrary<CodeInput> = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ unit: charOf(BASE45), maxLength: 300 }).map((t) => PREFIX + t),
    fc.uint8Array({ maxLength: 300 }).map(asCode),
    cborItem.map((item) => asCode(cborBytes(item))),
    fc.array(cborItem, { minLength: 4, maxLength: 4 }).map((parts) => asCode(encode(new Tagged(18, parts.map((p, i) => (i === 1 ? p : p instanceof Uint8Array ? p : cborBytes(p))))))),
    fc.integer({ min: 4200, max: 9000 }).map((n) => PREFIX + '0'.repeat(n)),
  )
  .map((text) => ({ text, signed: undefined }));

const seedTexts = CODE_SEEDS.map((seed) => seed.text);
const signedOf = (seed: number) => CODE_SEEDS[seed]!.signed;

export const codeArbitrary: fc.Arbitrary<CodeInput> = fc.oneof(
  { weight: 3, arbitrary: mutatedText(seedTexts, charOf(BASE45)).map((m) => ({ text: m.value, signed: signedOf(m.seed) })) },
  { weight: 3, arbitrary: mutatedBytes(CODE_SEED_BYTES).map((m) => ({ text: asCode(m.value), signed: signedOf(m.seed) })) },
  { weight: 4, arbitrary: mutatedSign1(CODE_SEED_BYTES).map((m) => ({ text: asCode(m.value), signed: signedOf(m.seed) })) },
  { weight: 2, arbitrary: signedClaims },
  { weight: 1, arbitrary: signedHolderCodes },
  { weight: 1, arbitrary: randomCodes },
  { weight: 1, arbitrary: fc.nat({ max: CODE_SEEDS.length - 1 }).map((i) => CODE_SEEDS[i]!) },
);

function sameCredential(got: SignedCode, signed: SignedCode): boolean {
  return got.issuer === signed.issuer && got.subject === signed.subject && got.cti === signed.cti;
}

const GENUINE = CODE_SEEDS.flatMap((seed) => (seed.signed ? [seed.signed] : []));

/**
 * An accepted code is a forgery unless it is exactly the credential a trusted
 * key signed: its own seed's, or (a part swapped back in) any genuine code's.
 */
export function codeForgery(decision: Decision, signed: SignedCode | undefined): string | undefined {
  if (decision.result !== 'accepted') return undefined;
  const got = { issuer: decision.credential.issuer, subject: decision.credential.subject, cti: decision.credential.cti };
  if ((signed && sameCredential(got, signed)) || GENUINE.some((g) => sameCredential(got, g))) return undefined;
  return signed ? `accepted ${JSON.stringify(got)}, signed was ${JSON.stringify(signed)}` : `accepted ${JSON.stringify(got)}, which no trusted key signed`;
}

/** QR text end to end through the decider of a venue gate (or, to test the harness, another decider). */
export function codeTarget(decider: Pick<Decider, 'decideCode'> = venueDecider(REPLAYED)): FuzzTarget<CodeInput> {
  return {
    name: 'qr-code',
    weight: 6,
    arbitrary: codeArbitrary,
    run: (input) => decisionOutcome(decider.decideCode(input.text, TIME), (d) => codeForgery(d, input.signed)),
    encode: (input) => JSON.stringify(input),
    decode: (text) => JSON.parse(text) as CodeInput,
  };
}
