import { decodeBase45 } from '../../src/core/credentials/base45.js';
import { codeText, TestHolder, type ClaimSet, type SignOptions, type TestIssuer } from '../../sim/issuer.js';
import { fixedBytes, fixedKeyPair } from './fixedKeys.js';
import { BARRED_CATEGORY, DENIED_CTI, DENIED_SUBJECT, issuers, NOW, SITE, ZONE } from './world.js';

/** What a trusted issuer signed into a code: an accepted code must be exactly this credential. */
export interface SignedCode {
  issuer: string;
  subject: string;
  cti: string | undefined;
}

export interface CodeSeed {
  text: string;
  /** Absent when no trusted key signed the code: accepting it, or any mutant of it, is a forgery. */
  signed: SignedCode | undefined;
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function issuerCode(issuer: TestIssuer, name: string, claims: Partial<ClaimSet> = {}, options: SignOptions = {}, trusted = true): CodeSeed {
  const cti = fixedBytes(`code ${name}`);
  const sub = claims.sub ?? `acct-${name}`;
  const text = issuer.issuerCode({ sub, iat: NOW - 5, cti, ...claims }, options);
  return { text, signed: trusted ? { issuer: issuer.id, subject: sub, cti: hexOf(claims.cti ?? cti) } : undefined };
}

function holder(issuer: TestIssuer, name: string, alg: 'ES256' | 'EdDSA'): { holder: TestHolder; signed: SignedCode } {
  const cti = fixedBytes(`credential ${name}`);
  const key = fixedKeyPair(alg, `holder ${name}`);
  const credential = issuer.boundCredential(key, { sub: `acct-${name}`, iat: NOW - 86_400, cti });
  return { holder: new TestHolder(credential, key), signed: { issuer: issuer.id, subject: `acct-${name}`, cti: hexOf(cti) } };
}

const { es, ed, stranger, unknownKid, impostor } = issuers;
const esHolder = holder(es, 'holder-es', 'ES256');
const edHolder = holder(ed, 'holder-ed', 'EdDSA');

/** The code already used at this gate: the decider's replay guard holds its key. */
const replayedSeed = issuerCode(es, 'replayed');
export const REPLAYED = [{ key: `cti:${es.id}:${replayedSeed.signed!.cti}`, until: (NOW + 200) * 1000 }];

/**
 * Genuine codes of both profiles, one for each outcome the decider can reach
 * on a code, so that mutants start next to every check.
 */
export const CODE_SEEDS: readonly CodeSeed[] = [
  issuerCode(es, 'plain'),
  issuerCode(ed, 'ticket', { category: 'senior', product: { site: SITE, zone: ZONE, entries: 2, from: NOW - 3600, until: NOW + 3600 } }),
  issuerCode(es, 'expired', { iat: NOW - 1000, exp: NOW - 500 }),
  issuerCode(es, 'future', { iat: NOW + 1000, exp: NOW + 1200 }),
  issuerCode(es, 'nbf', { nbf: NOW + 600 }),
  issuerCode(es, 'denied', { sub: DENIED_SUBJECT }),
  issuerCode(es, 'denied-cti', { cti: Uint8Array.from(Buffer.from(DENIED_CTI.slice(4), 'hex')) }),
  replayedSeed,
  issuerCode(es, 'wrong-site', { product: { site: 'elsewhere' } }),
  issuerCode(es, 'wrong-zone', { product: { site: SITE, zone: 'z9' } }),
  issuerCode(es, 'window', { product: { from: NOW + 7200, until: NOW + 9000 } }),
  issuerCode(es, 'used-up', { product: { entries: 0 } }),
  issuerCode(ed, 'barred', { category: BARRED_CATEGORY }),
  issuerCode(es, 'untagged', {}, { tagged: false }),
  issuerCode(es, 'alg-mismatch', {}, { alg: 'EdDSA' }),
  issuerCode(stranger, 'stranger', {}, {}, false),
  issuerCode(unknownKid, 'unknown-kid', {}, {}, false),
  issuerCode(impostor, 'impostor', {}, {}, false),
  { text: esHolder.holder.offlineCode(NOW - 5, { counter: 1 }), signed: esHolder.signed },
  { text: edHolder.holder.offlineCode(NOW - 10, { counter: 7 }), signed: edHolder.signed },
  { text: esHolder.holder.offlineCode(NOW - 600, { counter: 2 }), signed: esHolder.signed },
  { text: edHolder.holder.offlineCode(NOW + 900, { counter: 3 }), signed: edHolder.signed },
  // A holder code signed with another key: the inner credential is genuine, the holder signature is not.
  { text: esHolder.holder.offlineCode(NOW - 5, { counter: 4, signWith: fixedKeyPair('ES256', 'holder thief') }), signed: undefined },
  // The inner credential shown as a code of its own (a photographed offline code).
  { text: codeText(esHolder.holder.credential), signed: undefined },
];

export const CODE_SEED_BYTES: readonly Uint8Array[] = CODE_SEEDS.map((seed) => decodeBase45(seed.text.slice(4)));

/** Holders of genuine inner credentials; their keys sign generated offline codes. */
export const HOLDERS = [esHolder, edHolder];
