import fc from 'fast-check';
import { decodeBase45, encodeBase45 } from '../../src/core/credentials/base45.js';
import { decodeCbor, Tagged } from '../../src/core/credentials/cbor.js';
import { parseClaims, type Claims } from '../../src/core/credentials/claims.js';
import { CATEGORIES } from '../../src/core/credentials/credential.js';
import { parseCoseSign1, type CoseSign1 } from '../../src/core/credentials/cose.js';
import { Refusal } from '../../src/core/reasons.js';
import { cborBytes, cborItem } from './cborValues.js';
import { claimMaps } from './claimValues.js';
import { CODE_SEED_BYTES, CODE_SEEDS, HOLDERS } from './codeSeeds.js';
import { mutatedSign1, sign1Payload } from './coseMutators.js';
import { charOf, mutatedBytes, mutatedText } from './mutators.js';
import { acceptedUnless, crashed, hex, jsonText, reasonKey, type FuzzTarget, type Outcome } from './target.js';

/*
 * The credential parsers one by one (src/core/credentials): each returns a
 * value or throws the typed Refusal; anything else is a crash. An accepted
 * value must also be what the parser promises (a round trip, a shape).
 */

const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

/** Run a parser that throws Refusal; the reason counted is the refusal's code and the kind of detail. */
function refusalOutcome(parse: () => string | undefined): Outcome {
  try {
    const problem = parse();
    return acceptedUnless(problem);
  } catch (error) {
    if (error instanceof Refusal && error.detail !== '') return { kind: 'refused', reason: `${error.reason}: ${reasonKey(error.detail)}` };
    return crashed(error);
  }
}

const INNER = HOLDERS.map((h) => h.holder.credential);
const ALL_SIGN1 = [...CODE_SEED_BYTES, ...INNER];
const PAYLOADS = ALL_SIGN1.map(sign1Payload);

export function base45Target(): FuzzTarget<string> {
  const seeds = CODE_SEEDS.map((seed) => seed.text.slice(4));
  return {
    name: 'base45',
    weight: 3,
    arbitrary: fc.oneof(
      { weight: 4, arbitrary: mutatedText(seeds, charOf(BASE45)).map((m) => m.value) },
      { weight: 2, arbitrary: fc.string({ unit: charOf(BASE45), maxLength: 200 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map(encodeBase45) },
    ),
    // Base45 is canonical: text that decodes must be what its bytes encode to.
    run: (text) => refusalOutcome(() => (encodeBase45(decodeBase45(text)) === text ? undefined : `base45 ${JSON.stringify(text)} decodes but does not round-trip`)),
    ...jsonText,
  };
}

/** The first tag other than 18 anywhere in a decoded item: the strict decoder must have refused it. */
function firstForeignTag(item: unknown, depth = 0): number | undefined {
  if (depth > 64) return undefined;
  if (item instanceof Tagged) return item.tag === 18 ? firstForeignTag(item.value, depth + 1) : item.tag;
  const children = Array.isArray(item) ? item : item instanceof Map ? [...item].flat() : [];
  for (const child of children) {
    const tag = firstForeignTag(child, depth + 1);
    if (tag !== undefined) return tag;
  }
  return undefined;
}

const cborInputs: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: mutatedBytes([...ALL_SIGN1, ...PAYLOADS]).map((m) => m.value) },
  { weight: 2, arbitrary: cborItem.map(cborBytes) },
  { weight: 2, arbitrary: cborItem.chain((item) => mutatedBytes([cborBytes(item)]).map((m) => m.value)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }) },
);

export function cborTarget(): FuzzTarget<Uint8Array> {
  return {
    name: 'cbor',
    weight: 3,
    arbitrary: cborInputs,
    // The contract: the only tag a credential may carry is 18.
    run: (bytes) => refusalOutcome(() => {
      const tag = firstForeignTag(decodeCbor(bytes, 'fuzz'));
      return tag === undefined ? undefined : `CBOR tag ${tag} decoded instead of refused`;
    }),
    ...hex,
  };
}

function coseShapeProblem(sign1: CoseSign1): string | undefined {
  if (sign1.alg !== 'ES256' && sign1.alg !== 'EdDSA') return `COSE alg ${String(sign1.alg)} accepted`;
  if (!(sign1.payload instanceof Uint8Array) || !(sign1.signature instanceof Uint8Array) || !(sign1.protectedBytes instanceof Uint8Array)) return 'COSE parts accepted that are not byte strings';
  if (sign1.kid !== undefined && !(sign1.kid instanceof Uint8Array)) return 'COSE kid accepted that is not a byte string';
  return undefined;
}

export function coseTarget(): FuzzTarget<Uint8Array> {
  return {
    name: 'cose',
    weight: 3,
    arbitrary: fc.oneof(
      { weight: 4, arbitrary: mutatedSign1(ALL_SIGN1).map((m) => m.value) },
      { weight: 2, arbitrary: mutatedBytes(ALL_SIGN1).map((m) => m.value) },
      { weight: 1, arbitrary: fc.array(cborItem, { minLength: 3, maxLength: 5 }).map((parts) => cborBytes(new Tagged(18, parts.map((p, i) => (i === 1 || p instanceof Uint8Array ? p : cborBytes(p)))))) },
    ),
    run: (bytes) =>
      refusalOutcome(() => {
        // Both ways the gate reads a COSE_Sign1: tagged (a code) and either (a card certificate, a fleet message).
        const optional = parseCoseSign1(bytes, 'optional', 'fuzz');
        let required: CoseSign1 | undefined;
        try {
          required = parseCoseSign1(bytes, 'required', 'fuzz');
        } catch (error) {
          if (!(error instanceof Refusal)) throw error;
        }
        if (required && required.alg !== optional.alg) return 'tagged and untagged readings disagree';
        return coseShapeProblem(optional);
      }),
    ...hex,
  };
}

function claimsShapeProblem(claims: Claims): string | undefined {
  if (typeof claims.iss !== 'string' || claims.iss === '' || typeof claims.sub !== 'string' || claims.sub === '') return 'claims accepted without iss or sub text';
  if (!Number.isFinite(claims.exp)) return `claims accepted with exp ${String(claims.exp)}`;
  if (!(CATEGORIES as readonly string[]).includes(claims.category)) return `claims accepted with category ${String(claims.category)}`;
  const entries = claims.product?.entries;
  if (entries !== undefined && !(Number.isSafeInteger(entries) && entries >= 0)) return `claims accepted with product.entries ${String(entries)}`;
  return undefined;
}

/** The needs of the two kinds of claims the gate reads: an issuer-signed code, and a credential bound to a key. */
const NEEDS = [
  { cti: true, iat: true, cnf: false },
  { cti: false, iat: false, cnf: true },
];

export function claimsTarget(): FuzzTarget<Uint8Array> {
  const holderKeys = HOLDERS.map((h) => h.holder.key);
  return {
    name: 'claims',
    weight: 3,
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: claimMaps(holderKeys).map(cborBytes) },
      { weight: 2, arbitrary: mutatedBytes(PAYLOADS).map((m) => m.value) },
      { weight: 1, arbitrary: cborItem.map(cborBytes) },
    ),
    // Accepted when either kind of credential accepts the claims; refused (with the first refusal) when both refuse.
    run: (bytes) =>
      refusalOutcome(() => {
        const value = decodeCbor(bytes, 'fuzz');
        const results = NEEDS.map((need) => {
          try {
            return { problem: claimsShapeProblem(parseClaims(value, 'fuzz', need)) };
          } catch (error) {
            if (error instanceof Refusal) return { refusal: error };
            throw error;
          }
        });
        const problem = results.find((r) => r.problem !== undefined)?.problem;
        if (problem !== undefined) return problem;
        if (results.every((r) => r.refusal !== undefined)) throw results[0]!.refusal;
        return undefined;
      }),
    ...hex,
  };
}
