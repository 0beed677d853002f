import { afterEach, describe, expect, it, vi } from 'vitest';
import { CodeVerifier } from '../src/core/credentials/codeVerifier.js';
import { Sm2PublicKey } from '../src/core/crypto/sm2.js';
import { TrustStore, type TrustListDocument } from '../src/core/credentials/trustList.js';
import { Decider, type Decision } from '../src/core/decider.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import { ReplayGuard } from '../src/core/replayGuard.js';
import type { GateSettings } from '../src/core/settings.js';
import { INTEROPERABLE, LOCAL } from '../sim/transport/codeEncoder.js';
import { TransportRoot, TransportTestIssuer, type RiderOptions } from '../sim/transport/transportParties.js';
import { codeTime, gateSettings, NOW, NOW_MS, refusalFrom } from './fixtures.js';

/*
 * The national transport QR code (CARDS.md §4) through the gate's code path,
 * with codes made by the simulator's encoder (sim/transport): every check of
 * docs/credentials.md in its order, with its reason, and the cache that makes
 * a regular rider's code one SM2 verification.
 */

const root = new TransportRoot(0x01);
const otherRoot = new TransportRoot(0x02);
const issuer = new TransportTestIssuer(root, 'C0DE0001');
const unlisted = new TransportTestIssuer(root, 'C0DE0002');
const underOtherRoot = new TransportTestIssuer(otherRoot, 'C0DE0001');
const expiredCertificate = new TransportTestIssuer(root, 'C0DE0001', { expiry: { year: 2026, month: 12 } });
const DAY = 86_400;
const ACCOUNT = '3104770011223344556F';

function trustDocument(transport: NonNullable<TrustListDocument['transport']> = { roots: [root.trustEntry()], issuers: [issuer.id] }): TrustListDocument {
  return { issuers: [], transport };
}

const trust = TrustStore.fromDocument(trustDocument());

function rider(options: Partial<RiderOptions> = {}, by = issuer) {
  return by.enrol({ accountNumber: ACCOUNT, authorisedUntil: NOW + DAY, ...options });
}

const regular80 = rider();
const regular81 = rider({ version: LOCAL, accountNumber: '0102030405060708090A' });

function verify(code: Uint8Array, verifier = new CodeVerifier(trust), at = NOW_MS) {
  return verifier.verify(code, codeTime({ nowMs: at }));
}

function reasonOf(code: Uint8Array, verifier?: CodeVerifier, at?: number): string {
  return refusalFrom(() => verify(code, verifier, at)).reason;
}

function flip(code: Uint8Array, at: number): Uint8Array {
  const copy = Uint8Array.from(code);
  copy[at]! ^= 0x01;
  return copy;
}

afterEach(() => vi.restoreAllMocks());

describe('transport QR codes: accepted', () => {
  it.each([
    ['0x80 (interoperable, default user ids)', regular80, ACCOUNT],
    ['0x81 (local, user ids from the fields)', regular81, '0102030405060708090A'],
  ])('%s', (_name, r, account) => {
    const credential = verify(r.code(NOW - 5));
    expect(credential).toMatchObject({ kind: 'code', profile: 'transport', issuer: 'transport', subject: account, category: 'adult', product: undefined, cti: undefined, fareLimit: 2_000 });
    expect(credential.replay!.key).toMatch(/^code:[A-Za-z0-9_-]{43}$/);
    // Remembered while the code could be shown: its validity (60 s) from generation, plus the skew.
    expect(credential.replay!.until).toBe((NOW - 5 + 60 + 30) * 1000);
  });

  it('takes the holder category from the account type: 02 student, 03 senior, others adult', () => {
    expect(verify(rider({ accountType: 0x02 }).code(NOW)).category).toBe('student');
    expect(verify(rider({ accountType: 0x03 }).code(NOW)).category).toBe('senior');
    expect(verify(rider({ accountType: 0x05 }).code(NOW)).category).toBe('adult');
  });

  it('takes an issuer-defined field of up to 32 bytes', () => {
    expect(verify(rider({ defined: new Uint8Array(32).fill(0x5a) }).code(NOW)).subject).toBe(ACCOUNT);
  });

  it('takes every issuer of a listed root when the trust list names no issuers', () => {
    const open = new CodeVerifier(TrustStore.fromDocument(trustDocument({ roots: [root.trustEntry()] })));
    expect(verify(rider({}, unlisted).code(NOW), open).subject).toBe(ACCOUNT);
  });

  it('a regular rider costs one SM2 verification per code: certificate and account verified once, cached by hash', () => {
    const verifier = new CodeVerifier(trust);
    const spy = vi.spyOn(Sm2PublicKey.prototype, 'verify');
    verify(regular81.code(NOW - 10), verifier);
    expect(spy).toHaveBeenCalledTimes(3);
    verify(regular81.code(NOW - 5), verifier);
    verify(regular81.code(NOW), verifier);
    expect(spy).toHaveBeenCalledTimes(5);
    // Another rider of the same issuer: the certificate is cached, the account is not.
    verify(rider({ accountNumber: '00000000000000000001', version: LOCAL }).code(NOW), verifier);
    expect(spy).toHaveBeenCalledTimes(7);
  });

  it('a new trust list empties the caches: a root taken away stops a cached rider', () => {
    const verifier = new CodeVerifier(trust);
    verify(regular80.code(NOW), verifier);
    verifier.setTrust(TrustStore.fromDocument(trustDocument({ roots: [otherRoot.trustEntry()] })));
    expect(reasonOf(regular80.code(NOW), verifier)).toBe('unknown-key');
    verifier.setTrust(TrustStore.fromDocument(trustDocument({ roots: [root.trustEntry()], issuers: ['C0DE0009'] })));
    expect(reasonOf(regular80.code(NOW), verifier)).toBe('unknown-issuer');
  });
});

describe('transport QR codes: refused with the reason of the first check that fails', () => {
  const code = regular80.code(NOW - 5);

  it.each([
    ['truncated', () => code.subarray(0, code.length - 1), 'malformed'],
    ['cut short of the fixed part', () => code.subarray(0, 200), 'malformed'],
    ['a byte appended', () => Uint8Array.from([...code, 0]), 'malformed'],
    ['the length field off by one', () => flip(code, 2), 'malformed'],
    ['a defined-field length above 32', () => Uint8Array.from(code).fill(33, 197, 198), 'malformed'],
    ['a certificate header other than 24', () => flip(code, 3), 'malformed'],
    ['a service id other than 01010000', () => flip(code, 5), 'malformed'],
    ['a certificate format other than 12', () => flip(code, 9), 'malformed'],
    ['an expiry that is not MMYY', () => Uint8Array.from(code).fill(0x13, 14, 15), 'malformed'],
    ['a root index the trust list lacks', () => rider({}, underOtherRoot).code(NOW), 'unknown-key'],
    ['an issuer the trust list does not take', () => rider({}, unlisted).code(NOW), 'unknown-issuer'],
    ['a certificate the root did not sign (issuer key changed)', () => flip(code, 40), 'bad-signature'],
    ['an account the issuer did not sign (account number changed)', () => flip(code, 140), 'bad-signature'],
    ['a single-trip limit raised', () => flip(code, 157), 'bad-signature'],
    ['a generation time changed', () => flip(code, 266), 'bad-signature'],
    ['a generation time moved past the authorisation (the phone\'s word, checked after its signature)', () => Uint8Array.from(code).fill(0xff, 263, 264), 'bad-signature'],
    ['signed by another key than the account holds', () => regular80.code(NOW, rider().account.userKey.privateKey), 'bad-signature'],
    ['a user signature bit flipped', () => flip(code, 300), 'bad-signature'],
    ['an expired issuer certificate (12/2026)', () => rider({}, expiredCertificate).code(NOW), 'expired'],
    ['an authorisation that expired before the code was generated', () => rider({ authorisedUntil: NOW - 100 }).code(NOW - 50), 'expired'],
    ['an authorisation that expired since (beyond the skew)', () => rider({ authorisedUntil: NOW - 31 }).code(NOW - 40), 'expired'],
    ['generated in the future (beyond the skew)', () => regular80.code(NOW + 31), 'not-yet-valid'],
    ['stale: older than its validity plus the skew', () => regular80.code(NOW - 91), 'stale'],
  ])('%s', (_name, make, reason) => {
    expect(reasonOf(make())).toBe(reason);
  });

  it('a 0x80 code relabelled 0x81 does not verify: the local version signs with other user ids', () => {
    const local = Uint8Array.from(regular80.code(NOW));
    local[0] = LOCAL;
    expect(reasonOf(local)).toBe('bad-signature');
  });

  it('forgives the skew at both ends of the validity', () => {
    expect(verify(regular80.code(NOW + 30)).subject).toBe(ACCOUNT);
    expect(verify(regular80.code(NOW - 90)).subject).toBe(ACCOUNT);
  });

  it('names the account once the issuer vouched for it, not before', () => {
    const stale = refusalFrom(() => verify(regular80.code(NOW - 600)));
    expect(stale.identity).toEqual({ issuer: 'transport', subject: ACCOUNT, category: 'adult' });
    expect(refusalFrom(() => verify(flip(code, 140))).identity).toBeUndefined();
  });

  it('takes no transport code where the trust list has no transport object', () => {
    expect(reasonOf(code, new CodeVerifier(TrustStore.fromDocument({ issuers: [] })))).toBe('unknown-key');
  });

  it('refuses a trust list whose transport root is not a point of the curve, or appears twice', () => {
    const bad = { ...root.trustEntry(), publicKey: `04${'ff'.repeat(64)}` };
    expect(() => TrustStore.fromDocument(trustDocument({ roots: [bad] }))).toThrow(/transport\.roots\[0\]: SM2 public key is not a point on the curve/);
    expect(() => TrustStore.fromDocument(trustDocument({ roots: [root.trustEntry(), otherRoot.trustEntry()].map((r) => ({ ...r, index: 7 })) }))).toThrow(/roots\[1\]: index 7 appears twice/);
  });
});

describe('binary payloads that are not transport codes', () => {
  it.each([
    ['empty', new Uint8Array(0)],
    ['random bytes that are not UTF-8', Uint8Array.of(0xff, 0xfe, 0x00, 0x80)],
    ['UTF-8 text that is no CG1 code', new TextEncoder().encode('hello')],
    ['a version byte and nothing else', Uint8Array.of(INTEROPERABLE)],
  ])('%s: malformed', (_name, bytes) => {
    expect(reasonOf(bytes)).toBe('malformed');
  });
});

describe('the gate rules on transport codes (Decider)', () => {
  function decider(settings: Partial<GateSettings> = {}, deny?: MemoryDenyList, replay = new ReplayGuard()) {
    return new Decider(trust, gateSettings(settings), deny ?? new MemoryDenyList(), replay);
  }
  const at = { nowMs: NOW_MS, clockTrusted: true };
  const reason = (d: Decision) => d.reason;

  it('deny-lists by account, under the issuer transport', () => {
    const deny = new MemoryDenyList();
    deny.add('transport', ACCOUNT);
    expect(reason(decider({}, deny).decideCode(regular80.code(NOW), at))).toBe('deny-listed');
  });

  it('refuses the same code twice (replayed), takes the next code of the same phone', () => {
    const replay = new ReplayGuard();
    const d = decider({}, undefined, replay);
    const first = regular80.code(NOW - 2);
    const accepted = d.decideCode(first, at);
    expect(accepted.result).toBe('accepted');
    if (accepted.result !== 'accepted') return;
    replay.remember(accepted.credential.replay!.key, accepted.credential.replay!.until, NOW_MS);
    expect(reason(d.decideCode(first, at))).toBe('replayed');
    expect(reason(d.decideCode(regular80.code(NOW - 1), at))).toBe('ok');
  });

  it('applies the category rules and fares of the mode', () => {
    const senior = rider({ accountType: 0x03 }).code(NOW);
    expect(reason(decider({ categories: ['adult'] }).decideCode(senior, at))).toBe('category-not-allowed');
    const fares = { default: 300, byCategory: { senior: 0 } };
    const d = decider({ mode: 'venue', fares });
    const decision = d.decideCode(senior, at);
    expect(decision).toMatchObject({ result: 'accepted', fare: 0 });
  });

  it('refuses a fare above the single-trip limit (over-limit), takes one up to it', () => {
    const fares = { default: 300, byCategory: {} };
    const refused = decider({ mode: 'venue', fares }).decideCode(rider({ limitFen: 299 }).code(NOW), at);
    expect(refused).toMatchObject({ result: 'refused', reason: 'over-limit', identity: { issuer: 'transport', subject: ACCOUNT } });
    expect(decider({ mode: 'venue', fares }).decideCode(rider({ limitFen: 300 }).code(NOW), at)).toMatchObject({ result: 'accepted', fare: 300 });
  });

  it('tells a CG1 code given as bytes from a transport code by its content', () => {
    const d = decider();
    expect(reason(d.decideCode(new TextEncoder().encode('CG1:garbage'), at))).toBe('malformed');
    expect(reason(d.decideCode(Uint8Array.of(0x80, 0x01), at))).toBe('malformed');
    expect(reason(d.decideCode(regular81.code(NOW), at))).toBe('ok');
  });
});
