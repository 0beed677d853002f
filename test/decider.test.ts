import { randomBytes } from 'node:crypto';
import { encode } from 'cborg';
import { describe, expect, it } from 'vitest';
import { CardIoError, type CardChannel } from '../hal/cardReader.js';
import { decodeBase45, encodeBase45 } from '../src/core/credentials/base45.js';
import { Tagged } from '../src/core/credentials/cbor.js';
import { Decider, type Decision, type DecisionTime } from '../src/core/decider.js';
import { CaKeyStore } from '../src/core/credentials/emv/capk.js';
import { RevocationList } from '../src/core/credentials/emv/revocationList.js';
import { publishedTestCard, UNIONPAY_TEST_CAPK } from '../sim/emv/publishedTestCard.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import { GATE_REASONS, CONTRACT_REASONS } from '../src/core/reasons.js';
import { ReplayGuard } from '../src/core/replayGuard.js';
import type { GateSettings } from '../src/core/settings.js';
import type { Tap } from '../src/core/tap.js';
import { claimsMap, codeText, coseKeyOf, coseSign1, makeKeyPair, TestHolder, TestIssuer, type ClaimSet } from '../sim/issuer.js';
import { ScriptedCard, VirtualCard, type ApduResponder } from '../sim/virtualCard.js';
import { TransportRoot, TransportTestIssuer } from '../sim/transport/transportParties.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import {
  ALL_REASONS,
  assembleSign1,
  gateSettings,
  NOW,
  NOW_MS,
  prng,
  recordingChannel,
  RecordingChannel,
  responder,
  sign1Parts,
  simChannel,
  sw,
  trustOf,
} from './fixtures.js';

/*
 * Decider: verification plus this gate's rules, for codes and cards. The
 * reasons it cannot produce: `passback` (the gate's anti-passback state) and
 * `journal-unavailable` (the journal) come from other modules and are tested
 * there.
 */

const es = new TestIssuer('cq.yukuaima', 'ES256');
const ed = new TestIssuer('sc.tianfu', 'EdDSA');
const stranger = new TestIssuer('xx.not-trusted', 'ES256');
const trust = trustOf([es, ed]);
const SITE = 'cq-metro-l2';
const NUMBER = '3101000012345678';
const TRUSTED: DecisionTime = { nowMs: NOW_MS, clockTrusted: true };
const UNTRUSTED: DecisionTime = { nowMs: NOW_MS, clockTrusted: false };

function setup(settings: Partial<GateSettings> = {}) {
  const denyList = new MemoryDenyList();
  const replay = new ReplayGuard();
  const decider = new Decider(trust, gateSettings({ site: SITE, ...settings }), denyList, replay);
  return { decider, denyList, replay };
}

function code(claims: Partial<ClaimSet> = {}, issuer: TestIssuer = es): string {
  return issuer.issuerCode({ sub: 'acct-1', iat: NOW, ...claims });
}

function card(claims: Omit<Partial<ClaimSet>, 'sub'> = {}, issuer: TestIssuer = es): VirtualCard {
  return VirtualCard.issue(issuer, NUMBER, { iat: NOW - 86_400, category: 'student', ...claims }, issuer.key.alg);
}

function expectRefused(decision: Decision, reason: string) {
  expect(decision.result).toBe('refused');
  if (decision.result !== 'refused') throw new Error('unreachable');
  expect(decision.reason, decision.detail).toBe(reason);
  return decision;
}

function expectAccepted(decision: Decision) {
  if (decision.result !== 'accepted') throw new Error(`refused: ${decision.reason} (${decision.detail})`);
  expect(decision.reason).toBe('ok');
  return decision;
}

/** What every decision must look like, whatever the input. */
function expectWellFormed(decision: Decision, input: string) {
  expect(['accepted', 'refused']).toContain(decision.result);
  expect(ALL_REASONS).toContain(decision.reason);
  if (decision.result === 'refused') {
    expect(decision.reason).not.toBe('ok');
    expect(decision.detail.startsWith('unexpected:'), `${input}\n${decision.detail}`).toBe(false);
  } else {
    expect(decision.reason).toBe('ok');
  }
}

const identity = (issuer: TestIssuer, subject: string, category: string) => ({ issuer: issuer.id, subject, category });

describe('every reason code has a producer', () => {
  const producers: Record<string, () => Decision | Promise<Decision>> = {
    ok: () => setup().decider.decideCode(code(), TRUSTED),
    malformed: () => setup().decider.decideCode('not a code', TRUSTED),
    'unknown-issuer': () => setup().decider.decideCode(code({}, stranger), TRUSTED),
    'unknown-key': () => setup().decider.decideCode(es.issuerCode({ sub: 'a', iat: NOW }, { kid: randomBytes(8) }), TRUSTED),
    'bad-signature': () => setup().decider.decideCode(code({}, es.impostor()), TRUSTED),
    'not-yet-valid': () => setup().decider.decideCode(code({ nbf: NOW + 600 }), TRUSTED),
    expired: () => setup().decider.decideCode(code({ iat: NOW - 600, exp: NOW - 60 }), TRUSTED),
    stale: () => setup().decider.decideCode(TestHolder.enrol(ed, { sub: 'h', iat: NOW - 600 }).offlineCode(NOW - 120), TRUSTED),
    replayed: () => {
      const { decider, replay } = setup();
      const text = code();
      const first = expectAccepted(decider.decideCode(text, TRUSTED));
      replay.remember(first.credential.replay!.key, first.credential.replay!.until, NOW_MS);
      return decider.decideCode(text, TRUSTED);
    },
    'deny-listed': () => {
      const { decider, denyList } = setup();
      denyList.add(es.id, 'acct-1');
      return decider.decideCode(code(), TRUSTED);
    },
    'wrong-site': () => setup().decider.decideCode(code({ product: { site: 'other-site' } }), TRUSTED),
    'wrong-zone': () => setup({ zone: 'Z1' }).decider.decideCode(code({ product: { zone: 'Z2' } }), TRUSTED),
    'outside-window': () => setup().decider.decideCode(code({ product: { from: NOW + 3600, until: NOW + 7200 } }), TRUSTED),
    'entries-used': () => setup().decider.decideCode(code({ product: { entries: 0 } }), TRUSTED),
    'category-not-allowed': () => setup({ categories: ['staff'] }).decider.decideCode(code(), TRUSTED),
    'clock-untrusted': () => setup().decider.decideCode(code(), UNTRUSTED),
    'card-removed': async () => setup().decider.decideCard(await simChannel(card(), { removeAfterApdus: 1 }), TRUSTED),
    'card-auth-failed': async () => setup().decider.decideCard(await simChannel(card().clone()), TRUSTED),
    'card-not-supported': async () => setup().decider.decideCard(await simChannel(new ScriptedCard([sw(0x6a82)])), TRUSTED),
    'card-timeout': async () =>
      setup().decider.decideCard(new RecordingChannel(await simChannel(card()), { at: 1, error: new CardIoError('timeout', 'slow') }), TRUSTED),
    passback: () => {
      const { decider } = setup({ mode: 'metro-entry', metro: { station: 'JFB', passbackMin: 120, fares: undefined } });
      decider.recordTap({ at: new Date((NOW - 60) * 1000).toISOString(), mode: 'metro-entry', result: 'accepted', issuer: es.id, subject: 'acct-1', place: { station: 'JFB' } } as Tap);
      return decider.decideCode(code(), TRUSTED);
    },
    'capacity-full': () => setup({ mode: 'venue', venue: { dailyCapacity: 2 } }).decider.decideCode(code({ product: { entries: 3 } }), TRUSTED),
    'not-allowed': () => setup({ mode: 'access', access: { allow: [], schedules: {}, visitorIssuers: [], uidCards: false } }).decider.decideCode(code(), TRUSTED),
    // The public UnionPay test card's issuer certificate is serial 000001 under the test CA index 80.
    'certificate-revoked': async () =>
      new Decider(trust, gateSettings({ site: SITE }), new MemoryDenyList(), new ReplayGuard(), {
        capk: CaKeyStore.parse([UNIONPAY_TEST_CAPK], 'capk'),
        tokenKey: undefined,
        revocations: RevocationList.fromDocument({ revoked: [{ rid: 'A000000333', index: '80', serial: '000001' }] }, 'revocations'),
      }).decideCard(await simChannel(publishedTestCard()), TRUSTED),
    'outside-schedule': () =>
      setup({ mode: 'access', access: { allow: [{ issuer: es.id, subject: 'acct-1', schedule: 'none' }], schedules: { none: [] }, visitorIssuers: [], uidCards: false } }).decider.decideCode(code(), TRUSTED),
    // A transport QR code whose single-trip limit (1 yuan) is below the fare (2 yuan).
    'over-limit': () => {
      const transportIssuer = new TransportTestIssuer(new TransportRoot(0x01), 'C0DE0001');
      const rider = transportIssuer.enrol({ accountNumber: '3104770011223344556F', limitFen: 100, authorisedUntil: NOW + 3_600 });
      const withTransport = TrustStore.fromDocument({ issuers: [], transport: { roots: [transportIssuer.root.trustEntry()] } });
      const settings = gateSettings({ site: SITE, mode: 'venue', fares: { default: 200, byCategory: {} } });
      return new Decider(withTransport, settings, new MemoryDenyList(), new ReplayGuard()).decideCode(rider.code(NOW), TRUSTED);
    },
  };
  // Purse cards need a card and a PSAM in the field: test/tunionGate.test.ts and test/tunionTearing.test.ts produce those.
  const elsewhere = ['journal-unavailable', 'insufficient-balance', 'purchase-pending', 'psam-unavailable'];

  it('the table covers the contract and gate reasons, less those produced elsewhere', () => {
    expect(new Set([...Object.keys(producers), ...elsewhere])).toEqual(new Set([...CONTRACT_REASONS, ...GATE_REASONS]));
  });

  it.each(Object.keys(producers))('%s', async (reason) => {
    const decision = await producers[reason]!();
    expect(decision.reason).toBe(reason);
    expect(decision.result).toBe(reason === 'ok' ? 'accepted' : 'refused');
  });
});

describe('accepted codes', () => {
  it('carry the verified credential, the fare of the category and the passages of the product', () => {
    const { decider } = setup({ fares: { default: 200, byCategory: { senior: 0, student: 100 } } });
    const adult = expectAccepted(decider.decideCode(code({ product: { site: SITE, entries: 3 } }), TRUSTED));
    expect(adult).toMatchObject({ fare: 200, passages: 3, credential: { kind: 'code', profile: 'issuer', issuer: es.id, subject: 'acct-1', category: 'adult' } });
    expect(expectAccepted(decider.decideCode(code({ category: 'student' }), TRUSTED))).toMatchObject({ fare: 100, passages: 1 });
    // A free category is a fare of 0, not the default.
    expect(expectAccepted(decider.decideCode(code({ category: 'senior' }), TRUSTED)).fare).toBe(0);
  });

  it('have no fare where the mode charges nothing', () => {
    expect(expectAccepted(setup({ fares: undefined }).decider.decideCode(code(), TRUSTED)).fare).toBeUndefined();
  });

  it('both algorithms and both profiles', () => {
    const { decider } = setup();
    for (const issuer of [es, ed]) {
      expect(expectAccepted(decider.decideCode(code({}, issuer), TRUSTED)).credential.profile).toBe('issuer');
      for (const alg of ['ES256', 'EdDSA'] as const) {
        const holder = TestHolder.enrol(issuer, { sub: 'h-1', iat: NOW - 3600 }, alg);
        expect(expectAccepted(decider.decideCode(holder.offlineCode(NOW), TRUSTED)).credential.profile).toBe('holder');
      }
    }
  });

  it('the decider remembers nothing itself: the same code twice, unrecorded, is accepted twice', () => {
    const { decider, replay } = setup();
    const text = code();
    expectAccepted(decider.decideCode(text, TRUSTED));
    expectAccepted(decider.decideCode(text, TRUSTED));
    expect(replay.size()).toBe(0);
  });
});

describe('clock-untrusted', () => {
  it('refuses every code while wall time is untrusted, naming nobody', () => {
    const decision = expectRefused(setup().decider.decideCode(code(), UNTRUSTED), 'clock-untrusted');
    expect(decision.identity).toBeUndefined();
    expectRefused(setup({ cardsWhenClockUntrusted: true }).decider.decideCode(code(), UNTRUSTED), 'clock-untrusted');
  });

  it('refuses cards too, without touching them, unless cards are allowed on an untrusted clock', async () => {
    const channel = await recordingChannel(card());
    expectRefused(await setup().decider.decideCard(channel, UNTRUSTED), 'clock-untrusted');
    expect(channel.log).toHaveLength(0);
    expectAccepted(await setup({ cardsWhenClockUntrusted: true }).decider.decideCard(await simChannel(card()), UNTRUSTED));
  });
});

describe('replayed', () => {
  it('an issuer-signed code seen before is replayed, names the holder; another code of the same holder passes', () => {
    const { decider, replay } = setup();
    const text = code();
    const first = expectAccepted(decider.decideCode(text, TRUSTED));
    expect(first.credential.replay!.key).toMatch(/^cti:cq\.yukuaima:/);
    replay.remember(first.credential.replay!.key, first.credential.replay!.until, NOW_MS);
    const again = expectRefused(decider.decideCode(text, TRUSTED), 'replayed');
    expect(again.identity).toEqual(identity(es, 'acct-1', 'adult'));
    expectAccepted(decider.decideCode(code(), TRUSTED));
  });

  it('an offline code seen before is replayed; the next code of the phone (next counter) passes', () => {
    const { decider, replay } = setup();
    const holder = TestHolder.enrol(ed, { sub: 'h-1', iat: NOW - 3600, category: 'child' }, 'EdDSA');
    const text = holder.offlineCode(NOW - 10);
    const first = expectAccepted(decider.decideCode(text, TRUSTED));
    replay.remember(first.credential.replay!.key, first.credential.replay!.until, NOW_MS);
    expect(expectRefused(decider.decideCode(text, TRUSTED), 'replayed').identity).toEqual(identity(ed, 'h-1', 'child'));
    expectAccepted(decider.decideCode(holder.offlineCode(NOW - 10), TRUSTED));
  });

  it('the same offline code, re-encoded by someone else (an extra unprotected header), is still replayed', () => {
    const { decider, replay } = setup();
    const holder = TestHolder.enrol(es, { sub: 'h-1', iat: NOW - 3600 }, 'ES256');
    const payload = encode(new Map<number, unknown>([[1, holder.credential], [2, NOW], [3, 5]]));
    const signed = coseSign1(holder.key, payload);
    const first = expectAccepted(decider.decideCode(codeText(signed), TRUSTED));
    replay.remember(first.credential.replay!.key, first.credential.replay!.until, NOW_MS);
    const [protectedBytes, , signedPayload, signature] = sign1Parts(signed);
    const reencoded = assembleSign1([protectedBytes, new Map([[3, 'text/plain']]), signedPayload, signature]);
    expectRefused(decider.decideCode(codeText(reencoded), TRUSTED), 'replayed');
  });

  it('is forgotten when the replay guard entry lapses', () => {
    const { decider, replay } = setup();
    const text = code();
    const first = expectAccepted(decider.decideCode(text, TRUSTED));
    replay.remember(first.credential.replay!.key, NOW_MS + 1000, NOW_MS);
    expectRefused(decider.decideCode(text, { nowMs: NOW_MS + 999, clockTrusted: true }), 'replayed');
    expectAccepted(decider.decideCode(text, { nowMs: NOW_MS + 1000, clockTrusted: true }));
  });

  it('cards carry no replay key: a card proves presence by its challenge', async () => {
    const decision = expectAccepted(await setup().decider.decideCard(await simChannel(card()), TRUSTED));
    expect(decision.credential.replay).toBeUndefined();
  });
});

describe('deny-listed', () => {
  it('issuer + subject of a code, naming the holder; the same subject at another issuer passes', () => {
    const { decider, denyList } = setup();
    denyList.add(es.id, 'acct-1');
    expect(expectRefused(decider.decideCode(code(), TRUSTED), 'deny-listed').identity).toEqual(identity(es, 'acct-1', 'adult'));
    expectAccepted(decider.decideCode(code({}, ed), TRUSTED));
    denyList.remove(es.id, 'acct-1');
    expectAccepted(decider.decideCode(code(), TRUSTED));
  });

  it('a code by its cti (cti:<hex>), and only that code', () => {
    const { decider, denyList } = setup();
    const cti = Buffer.from('a1b2c3d4e5f60718293a4b5c6d7e8f90', 'hex');
    denyList.add(es.id, `cti:${cti.toString('hex')}`);
    expectRefused(decider.decideCode(code({ cti }), TRUSTED), 'deny-listed');
    expectAccepted(decider.decideCode(code(), TRUSTED));
    // The cti is per issuer.
    expectAccepted(decider.decideCode(code({ cti }, ed), TRUSTED));
  });

  it('an offline code by its holder, or by the cti of its inner credential', () => {
    const { decider, denyList } = setup();
    const cti = Buffer.from('0badc0de', 'hex');
    const holder = TestHolder.enrol(ed, { sub: 'h-7', iat: NOW - 3600, cti }, 'ES256');
    expectAccepted(decider.decideCode(holder.offlineCode(NOW), TRUSTED));
    denyList.add(ed.id, 'cti:0badc0de');
    expectRefused(decider.decideCode(holder.offlineCode(NOW), TRUSTED), 'deny-listed');
    denyList.remove(ed.id, 'cti:0badc0de');
    denyList.add(ed.id, 'h-7');
    expectRefused(decider.decideCode(holder.offlineCode(NOW), TRUSTED), 'deny-listed');
  });

  it('a card by its number, naming the card', async () => {
    const { decider } = setup();
    const denied = new Decider(trust, gateSettings({ site: SITE }), MemoryDenyList.fromDocument({ [es.id]: [NUMBER] }), new ReplayGuard());
    expectAccepted(await decider.decideCard(await simChannel(card()), TRUSTED));
    const decision = expectRefused(await denied.decideCard(await simChannel(card()), TRUSTED), 'deny-listed');
    expect(decision.identity).toEqual(identity(es, NUMBER, 'student'));
  });
});

describe("the gate's product and category rules", () => {
  it('wrong-site: a ticket for another site, naming the holder; the right site passes', () => {
    const { decider } = setup();
    const decision = expectRefused(decider.decideCode(code({ product: { site: 'venue-9' } }), TRUSTED), 'wrong-site');
    expect(decision.identity).toEqual(identity(es, 'acct-1', 'adult'));
    expectAccepted(decider.decideCode(code({ product: { site: SITE } }), TRUSTED));
  });

  it('no site rule where the settings have no site (citygate check without --site)', () => {
    expectAccepted(setup({ site: undefined }).decider.decideCode(code({ product: { site: 'venue-9' } }), TRUSTED));
  });

  it('wrong-zone: a ticket for another zone at a gate with a zone; no zone rule at a gate without one', () => {
    const zoned = setup({ zone: 'Z1' }).decider;
    expect(expectRefused(zoned.decideCode(code({ product: { zone: 'Z2' } }), TRUSTED), 'wrong-zone').identity).toEqual(
      identity(es, 'acct-1', 'adult'),
    );
    expectAccepted(zoned.decideCode(code({ product: { zone: 'Z1' } }), TRUSTED));
    expectAccepted(zoned.decideCode(code({ product: { site: SITE } }), TRUSTED));
    expectAccepted(setup({ zone: undefined }).decider.decideCode(code({ product: { zone: 'Z2' } }), TRUSTED));
  });

  it('outside-window: a ticket used before its from or after its until, with the 30 s skew forgiven', async () => {
    const { decider } = setup();
    const early = expectRefused(decider.decideCode(code({ product: { from: NOW + 31, until: NOW + 3600 } }), TRUSTED), 'outside-window');
    expect(early.identity).toEqual(identity(es, 'acct-1', 'adult'));
    expectRefused(decider.decideCode(code({ product: { until: NOW - 30 } }), TRUSTED), 'outside-window');
    expectAccepted(decider.decideCode(code({ product: { from: NOW + 29, until: NOW - 29 } }), TRUSTED));
    expectAccepted(setup({ skewSec: 0 }).decider.decideCode(code({ product: { from: NOW, until: NOW + 1 } }), TRUSTED));
    expectRefused(setup({ skewSec: 0 }).decider.decideCode(code({ product: { until: NOW } }), TRUSTED), 'outside-window');
    expectRefused(await decider.decideCard(await simChannel(card({ product: { until: NOW - 3600 } })), TRUSTED), 'outside-window');
  });

  it('a ticket window is checked after the site: a ticket for elsewhere is wrong-site whenever it is used', () => {
    expectRefused(setup().decider.decideCode(code({ product: { site: 'venue-9', until: NOW - 3600 } }), TRUSTED), 'wrong-site');
  });

  it('entries-used: a product that allows no entries; one entry passes', () => {
    const { decider } = setup();
    expect(expectRefused(decider.decideCode(code({ product: { entries: 0 } }), TRUSTED), 'entries-used').identity).toEqual(
      identity(es, 'acct-1', 'adult'),
    );
    expect(expectAccepted(decider.decideCode(code({ product: { entries: 1 } }), TRUSTED)).passages).toBe(1);
  });

  it('category-not-allowed: a category this gate does not let through, code or card', async () => {
    const { decider } = setup({ categories: ['staff', 'disabled'] });
    expect(expectRefused(decider.decideCode(code(), TRUSTED), 'category-not-allowed').identity).toEqual(identity(es, 'acct-1', 'adult'));
    expectAccepted(decider.decideCode(code({ category: 'staff' }), TRUSTED));
    expectRefused(await decider.decideCard(await simChannel(card()), TRUSTED), 'category-not-allowed');
    expectAccepted(await decider.decideCard(await simChannel(card({ category: 'disabled' })), TRUSTED));
  });

  it('the rules apply to cards too (site of a card product)', async () => {
    expectRefused(await setup().decider.decideCard(await simChannel(card({ product: { site: 'venue-9' } })), TRUSTED), 'wrong-site');
  });

  it('order: deny-listed before the product rules, replayed last', () => {
    const { decider, denyList, replay } = setup({ categories: ['staff'] });
    const text = code({ product: { site: 'venue-9' } });
    denyList.add(es.id, 'acct-1');
    expectRefused(decider.decideCode(text, TRUSTED), 'deny-listed');
    denyList.remove(es.id, 'acct-1');
    expectRefused(decider.decideCode(text, TRUSTED), 'wrong-site');
    const plain = code();
    const again = expectAccepted(setup().decider.decideCode(plain, TRUSTED));
    replay.remember(again.credential.replay!.key, again.credential.replay!.until, NOW_MS);
    expectRefused(decider.decideCode(plain, TRUSTED), 'category-not-allowed');
  });
});

describe('verification refusals through the decider', () => {
  it('name the holder only once a signature vouches for the claims', () => {
    const { decider } = setup();
    expect(expectRefused(decider.decideCode(code({}, es.impostor()), TRUSTED), 'bad-signature').identity).toBeUndefined();
    expect(expectRefused(decider.decideCode(code({}, stranger), TRUSTED), 'unknown-issuer').identity).toBeUndefined();
    expect(expectRefused(decider.decideCode(code({ iat: NOW - 600, exp: NOW - 60 }), TRUSTED), 'expired').identity).toEqual(
      identity(es, 'acct-1', 'adult'),
    );
  });

  it('setTrust reaches both the code and the card verifier', async () => {
    const { decider } = setup();
    const theCard = card();
    expectAccepted(decider.decideCode(code(), TRUSTED));
    expectAccepted(await decider.decideCard(await simChannel(theCard), TRUSTED));
    decider.setTrust(trustOf([ed]));
    expectRefused(decider.decideCode(code(), TRUSTED), 'unknown-issuer');
    expectRefused(await decider.decideCard(await simChannel(theCard), TRUSTED), 'unknown-issuer');
  });
});

describe('cards through the decider', () => {
  it('a genuine card of either algorithm is accepted with its fare', async () => {
    const { decider } = setup({ fares: { default: 200, byCategory: { student: 100 } } });
    for (const issuer of [es, ed]) {
      const decision = expectAccepted(await decider.decideCard(await simChannel(card({}, issuer)), TRUSTED));
      expect(decision).toMatchObject({ fare: 100, passages: 1, credential: { kind: 'card', subject: NUMBER, issuer: issuer.id } });
    }
  });

  it('a clone is card-auth-failed, naming the card it copies', async () => {
    const decision = expectRefused(await setup().decider.decideCard(await simChannel(card({}, ed).clone()), TRUSTED), 'card-auth-failed');
    expect(decision.identity).toEqual(identity(ed, NUMBER, 'student'));
  });

  it('a card removed after any number of APDUs short of the whole exchange is card-removed', async () => {
    const { decider } = setup();
    const theCard = card();
    const full = await recordingChannel(theCard);
    expectAccepted(await decider.decideCard(full, TRUSTED));
    for (let n = 0; n < full.log.length; n++) {
      expectRefused(await decider.decideCard(await simChannel(theCard, { removeAfterApdus: n }), TRUSTED), 'card-removed');
    }
  });

  it('a reader that does not answer in time is card-timeout', async () => {
    const channel = new RecordingChannel(await simChannel(card()), { at: 0, error: new CardIoError('timeout', 'no answer in 500 ms') });
    expectRefused(await setup().decider.decideCard(channel, TRUSTED), 'card-timeout');
  });

  it('a bank card is card-not-supported', async () => {
    expectRefused(await setup().decider.decideCard(await simChannel(new ScriptedCard([sw(0x6a82)])), TRUSTED), 'card-not-supported');
  });

  it('an expired card is expired', async () => {
    expectRefused(await setup().decider.decideCard(await simChannel(card({ iat: NOW - 90_000, exp: NOW - 3600 })), TRUSTED), 'expired');
  });

  it('a driver that throws something else than a CardIoError gives a refusal, not a rejected promise', async () => {
    const inner = await simChannel(card());
    const broken: CardChannel = {
      readerName: inner.readerName,
      atr: inner.atr,
      transmit: async () => {
        throw new TypeError('driver bug');
      },
      release: () => inner.release(),
    };
    const decision = expectRefused(await setup().decider.decideCard(broken, TRUSTED), 'malformed');
    expect(decision.detail).toMatch(/driver bug/);
  });

  it('garbage answers always end in a known refusal', async () => {
    const { decider } = setup();
    const random = prng(2024);
    for (let tap = 0; tap < 200; tap++) {
      const garbage: ApduResponder = responder(() => Uint8Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * 256)));
      const decision = await decider.decideCard(await simChannel(garbage), TRUSTED);
      expect(decision.result).toBe('refused');
      expectWellFormed(decision, `tap ${tap}`);
    }
  });
});

/* ---------------------------------------------------------------------------------------------- */

function mutate(bytes: number[], random: () => number): number[] {
  const out = [...bytes];
  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) {
    const at = Math.floor(random() * (out.length + 1));
    const op = Math.floor(random() * 3);
    if (op === 0 && out.length > 0) out[at % out.length] = out[at % out.length]! ^ (1 << Math.floor(random() * 8));
    else if (op === 1) out.splice(at, 0, Math.floor(random() * 256));
    else out.splice(at % Math.max(1, out.length), 1);
  }
  return out;
}

describe('random inputs never break the decider', () => {
  const { decider } = setup();
  const seeds = [
    code({ product: { site: SITE, zone: 'Z1', from: NOW - 60, until: NOW + 600, entries: 2 } }),
    code({ category: 'senior' }, ed),
    TestHolder.enrol(es, { sub: 'h-1', iat: NOW - 3600 }, 'EdDSA').offlineCode(NOW),
    TestHolder.enrol(ed, { sub: 'h-2', iat: NOW - 3600 }, 'ES256').offlineCode(NOW),
  ];

  function run(label: string, make: (random: () => number, seed: string) => string) {
    const random = prng(label.length * 7919);
    const seen = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const input = make(random, seeds[i % seeds.length]!);
      let decision: Decision | undefined;
      expect(() => {
        decision = decider.decideCode(input, TRUSTED);
      }).not.toThrow();
      expectWellFormed(decision!, input);
      seen.set(decision!.reason, (seen.get(decision!.reason) ?? 0) + 1);
    }
    return seen;
  }

  it('2,000 mutations of the code text (flip, insert, delete)', () => {
    const seen = run('text', (random, seed) => String.fromCharCode(...mutate([...seed].map((c) => c.charCodeAt(0)), random)));
    expect(seen.get('malformed')).toBeGreaterThan(1000);
  });

  it('2,000 mutations of the COSE bytes, re-encoded as valid base45', () => {
    const seen = run('cose bytes', (random, seed) => `CG1:${encodeBase45(Uint8Array.from(mutate([...decodeBase45(seed.slice(4))], random)))}`);
    expect(seen.get('malformed')).toBeGreaterThan(500);
    expect(seen.get('bad-signature')).toBeGreaterThan(50);
  });

  it('2,000 codes signed for real with one claim replaced by a value of any CBOR type', () => {
    const random = prng(65537);
    const values: unknown[] = [
      -1, 0, 2 ** 53 + 2, 2n ** 64n - 1n, -(2n ** 64n), 1.5, NaN, Infinity, -Infinity, true, false, null, undefined, '', 'adult', 'x'.repeat(300),
      new Uint8Array(0), new Uint8Array(32), [], [1, 'a'], new Map(), new Map<unknown, unknown>([[1, 2]]), new Map([['site', SITE]]), new Tagged(18, []),
      new Tagged(18, new Uint8Array(2)),
    ];
    const labels = [1, 2, 4, 5, 6, 7, 8, -65537, -65538];
    const productFields = ['site', 'zone', 'from', 'until', 'entries'];
    const holderKey = makeKeyPair('ES256');
    const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    for (let i = 0; i < 2000; i++) {
      const issuer = i % 2 ? es : ed;
      const claims = claimsMap({ iss: issuer.id, sub: 's', exp: NOW + 100, iat: NOW - 10, cti: new Uint8Array(16), category: 'adult', product: { site: SITE } });
      let text: string;
      switch (i % 4) {
        case 0:
          claims.set(pick(labels), pick(values));
          text = codeText(coseSign1(issuer.key, encode(claims), { kid: issuer.kid }));
          break;
        case 1:
          claims.set(-65538, new Map([[pick(productFields), pick(values)]]));
          text = codeText(coseSign1(issuer.key, encode(claims), { kid: issuer.kid }));
          break;
        case 2: {
          const key = coseKeyOf(holderKey);
          key.set(pick([1, 3, -1, -2, -3]), pick(values));
          claims.set(8, new Map([[1, key]]));
          const inner = coseSign1(issuer.key, encode(claims), { kid: issuer.kid });
          text = codeText(coseSign1(holderKey, encode(new Map<number, unknown>([[1, inner], [2, NOW], [3, 1]]))));
          break;
        }
        default: {
          claims.set(8, new Map([[1, coseKeyOf(holderKey)]]));
          const inner = coseSign1(issuer.key, encode(claims), { kid: issuer.kid });
          const payload = new Map<number, unknown>([[1, inner], [2, NOW], [3, 1]]);
          payload.set(pick([2, 3]), pick(values));
          text = codeText(coseSign1(holderKey, encode(payload)));
        }
      }
      const decision = decider.decideCode(text, TRUSTED);
      expectWellFormed(decision, text);
    }
  });
});
