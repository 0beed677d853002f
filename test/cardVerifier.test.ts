import { randomBytes } from 'node:crypto';
import { encode } from 'cborg';
import { beforeEach, describe, expect, it } from 'vitest';
import { CardIoError } from '../hal/cardReader.js';
import { CG_AID, READ_CHUNK, selectAid } from '../src/core/credentials/apdu.js';
import { CardVerifier, type CardCheck } from '../src/core/credentials/cardVerifier.js';
import type { CoseAlg } from '../src/core/credentials/cose.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { Refusal, type RefusalReason } from '../src/core/reasons.js';
import { claimsMap, coseSign1, makeKeyPair, TestIssuer, type ClaimSet } from '../sim/issuer.js';
import { ScriptedCard, VirtualCard, type ApduResponder } from '../sim/virtualCard.js';
import {
  ALL_REASONS,
  asyncRefusalFrom,
  ExactLeCard,
  GetResponseCard,
  NOW,
  NOW_MS,
  prng,
  recordingChannel,
  RecordingChannel,
  responder,
  simChannel,
  sw,
  timeoutError,
  trustOf,
} from './fixtures.js';

/*
 * CardVerifier: the CG card flow of DESIGN.md §3 over simulated readers
 * (SimCardReader channels), with genuine, cloned, removed, slow, foreign and
 * broken cards.
 */

const ALGS: CoseAlg[] = ['ES256', 'EdDSA'];
const issuers: Record<CoseAlg, TestIssuer> = {
  ES256: new TestIssuer('cq.yukuaima', 'ES256'),
  EdDSA: new TestIssuer('sc.tianfu', 'EdDSA'),
};
const es = issuers.ES256;
const trust = trustOf([issuers.ES256, issuers.EdDSA]);
const NUMBER = '3101000012345678';
const GATE = 'cq-l2-gate-07';
const INS_READ_BINARY = 0xb0;
const INS_INTERNAL_AUTHENTICATE = 0x88;
const INS_GET_RESPONSE = 0xc0;

const check = (overrides: Partial<CardCheck> = {}): CardCheck => ({ nowMs: NOW_MS, skewSec: 30, gateId: GATE, apduTimeoutMs: 500, ...overrides });

let verifier: CardVerifier;
beforeEach(() => {
  verifier = new CardVerifier(trust);
});

function issueCard(issuer: TestIssuer = es, alg: CoseAlg = 'ES256', claims: Omit<Partial<ClaimSet>, 'sub'> = {}): VirtualCard {
  return VirtualCard.issue(issuer, NUMBER, { iat: NOW - 86_400, category: 'student', ...claims }, alg);
}

async function refusedCard(card: ApduResponder, reason: RefusalReason, options: { presentation?: { removeAfterApdus?: number }; check?: CardCheck } = {}) {
  const channel = await simChannel(card, options.presentation);
  const refusal = await asyncRefusalFrom(() => verifier.verify(channel, options.check ?? check()));
  expect(refusal.reason, refusal.detail).toBe(reason);
  return refusal;
}

/** A card whose certificate, signed for real, is exactly `length` bytes long. */
function cardWithCertificateOf(length: number, issuer: TestIssuer = es): VirtualCard {
  const key = makeKeyPair('ES256');
  let pad = Math.max(0, length - 200);
  for (let attempt = 0; attempt < 8; attempt++) {
    const certificate = issuer.boundCredential(key, { sub: NUMBER, iat: NOW - 60, product: { note: 'x'.repeat(pad) } as ClaimSet['product'] });
    if (certificate.length === length) return new VirtualCard(NUMBER, certificate, key);
    pad += length - certificate.length;
  }
  throw new Error(`could not make a certificate of ${length} bytes`);
}

/** Answers like `card`, except for the commands `override` returns a response for. */
function tampered(card: ApduResponder, override: (apdu: Uint8Array) => Uint8Array | undefined): ApduResponder {
  return {
    atr: card.atr,
    reset: () => card.reset(),
    respond: (apdu) => override(apdu) ?? card.respond(apdu),
  };
}

const identity = (issuer: TestIssuer = es) => ({ issuer: issuer.id, subject: NUMBER, category: 'student' });

describe('genuine cards', () => {
  const combos = ALGS.flatMap((issuerAlg) => ALGS.map((cardAlg) => [issuerAlg, cardAlg] as const));

  it.each(combos)('issuer %s, card key %s: accepted', async (issuerAlg, cardAlg) => {
    const issuer = issuers[issuerAlg];
    const card = issueCard(issuer, cardAlg, { cti: Buffer.from('c0ffee', 'hex'), product: { zone: 'Z2' } });
    const credential = await verifier.verify(await simChannel(card), check());
    expect(credential).toEqual({
      kind: 'card',
      profile: 'card',
      issuer: issuer.id,
      subject: NUMBER,
      category: 'student',
      product: { zone: 'Z2', entries: 1 },
      cti: 'c0ffee',
      replay: undefined,
    });
  });

  it('an untagged certificate is accepted (only the QR must be tagged)', async () => {
    const key = makeKeyPair('EdDSA');
    const card = new VirtualCard(NUMBER, es.boundCredential(key, { sub: NUMBER, iat: NOW - 60 }, { tagged: false }), key);
    expect((await verifier.verify(await simChannel(card), check())).subject).toBe(NUMBER);
  });

  it('the same card tapped twice is accepted twice (the cached certificate still makes the card sign)', async () => {
    const card = issueCard();
    const first = await recordingChannel(card);
    const second = await recordingChannel(card);
    await verifier.verify(first, check());
    await verifier.verify(second, check());
    expect(second.commands(INS_INTERNAL_AUTHENTICATE)).toHaveLength(1);
  });

  describe('the APDUs sent', () => {
    it('SELECT by the CG AID, READ BINARY in 240-byte steps, then INTERNAL AUTHENTICATE', async () => {
      const card = cardWithCertificateOf(600);
      const channel = await recordingChannel(card);
      await verifier.verify(channel, check());
      const commands = channel.log.map((e) => [...e.command]);
      expect(commands[0]).toEqual([0x00, 0xa4, 0x04, 0x00, 0x09, 0xf0, 0x43, 0x49, 0x54, 0x59, 0x47, 0x41, 0x54, 0x45, 0x00]);
      expect(commands[0]).toEqual([...selectAid(CG_AID)]);
      expect(commands.slice(1, 4)).toEqual([
        [0x00, 0xb0, 0x00, 0x00, 240],
        [0x00, 0xb0, 0x00, 240, 240],
        [0x00, 0xb0, 0x01, 480 - 256, 240],
      ]);
      expect(commands[4]!.slice(0, 4)).toEqual([0x00, 0x88, 0x00, 0x00]);
      expect(commands).toHaveLength(5);
    });

    it('a certificate of a multiple of 240 bytes is read until 6B00', async () => {
      const card = cardWithCertificateOf(2 * READ_CHUNK);
      const channel = await recordingChannel(card);
      expect((await verifier.verify(channel, check())).subject).toBe(NUMBER);
      const reads = channel.log.filter((e) => e.command[1] === INS_READ_BINARY);
      expect(reads).toHaveLength(3);
      expect([...reads[2]!.response!]).toEqual([0x6b, 0x00]);
    });

    it('the challenge is 16 random bytes followed by the gate id in UTF-8, framed 00 88 00 00 Lc .. 00', async () => {
      const card = issueCard();
      const channel = await recordingChannel(card);
      await verifier.verify(channel, check());
      const [auth] = channel.commands(INS_INTERNAL_AUTHENTICATE);
      const gate = Buffer.from(GATE, 'utf8');
      expect(auth![4]).toBe(16 + gate.length);
      expect(auth!.length).toBe(5 + 16 + gate.length + 1);
      expect(auth![auth!.length - 1]).toBe(0x00);
      expect(Buffer.from(auth!.subarray(5 + 16, 5 + 16 + gate.length)).toString('utf8')).toBe(GATE);
    });

    it('the challenge carries a non-ASCII gate id as UTF-8 bytes', async () => {
      const gateId = '北站-闸机07';
      const channel = await recordingChannel(issueCard());
      await verifier.verify(channel, check({ gateId }));
      const [auth] = channel.commands(INS_INTERNAL_AUTHENTICATE);
      const gate = Buffer.from(gateId, 'utf8');
      expect(gate.length).toBeGreaterThan(gateId.length);
      expect(Buffer.from(auth!.subarray(5 + 16, auth!.length - 1))).toEqual(gate);
    });

    it('a gate id of 32 bytes goes whole into the challenge; a longer one is cut at 32 bytes', async () => {
      const exact = 'g'.repeat(32);
      const long = `${'h'.repeat(32)}-overflow`;
      for (const [gateId, expected] of [
        [exact, exact],
        [long, 'h'.repeat(32)],
      ] as const) {
        const channel = await recordingChannel(issueCard());
        await verifier.verify(channel, check({ gateId }));
        const [auth] = channel.commands(INS_INTERNAL_AUTHENTICATE);
        expect(auth![4]).toBe(48);
        expect(Buffer.from(auth!.subarray(21, 53)).toString('utf8')).toBe(expected);
      }
    });

    it('the random part differs from tap to tap', async () => {
      const card = issueCard();
      const nonces = new Set<string>();
      for (let tap = 0; tap < 20; tap++) {
        const channel = await recordingChannel(card);
        await verifier.verify(channel, check());
        const [auth] = channel.commands(INS_INTERNAL_AUTHENTICATE);
        nonces.add(Buffer.from(auth!.subarray(5, 21)).toString('hex'));
      }
      expect(nonces.size).toBe(20);
      expect(nonces.has('00'.repeat(16))).toBe(false);
    });

    it('a signature recorded at an earlier tap does not pass a later one (the challenge is fresh)', async () => {
      const card = issueCard();
      const first = await recordingChannel(card);
      await verifier.verify(first, check());
      const recorded = first.log.find((e) => e.command[1] === INS_INTERNAL_AUTHENTICATE)!.response!;
      const replayer = tampered(card, (apdu) => (apdu[1] === INS_INTERNAL_AUTHENTICATE ? recorded : undefined));
      const refusal = await refusedCard(replayer, 'card-auth-failed');
      expect(refusal.identity).toEqual(identity());
    });
  });
});

describe('cards that fail authentication', () => {
  it.each(ALGS)('a clone (%s: the right certificate, another key) is card-auth-failed and names the card', async (alg) => {
    const refusal = await refusedCard(issueCard(issuers[alg], alg).clone(), 'card-auth-failed');
    expect(refusal.identity).toEqual(identity(issuers[alg]));
  });

  it('a clone is refused even after the genuine card put its certificate in the cache', async () => {
    const card = issueCard();
    await verifier.verify(await simChannel(card), check());
    await refusedCard(card.clone(), 'card-auth-failed');
  });

  it.each([
    ['6985 (conditions not satisfied)', () => sw(0x6985)],
    ['6D00 (no INTERNAL AUTHENTICATE)', () => sw(0x6d00)],
    ['9000 without a signature', () => sw(0x9000)],
    ['a 63-byte signature', () => Uint8Array.from([...randomBytes(63), 0x90, 0x00])],
    ['64 random bytes', () => Uint8Array.from([...randomBytes(64), 0x90, 0x00])],
  ])('INTERNAL AUTHENTICATE answered with %s is card-auth-failed', async (_what, answer) => {
    const card = tampered(issueCard(), (apdu) => (apdu[1] === INS_INTERNAL_AUTHENTICATE ? answer() : undefined));
    await refusedCard(card, 'card-auth-failed');
  });

  it('a good signature under a status word other than 9000 (here 6985) is card-auth-failed', async () => {
    const genuine = issueCard();
    const card = tampered(genuine, (apdu) => {
      if (apdu[1] !== INS_INTERNAL_AUTHENTICATE) return undefined;
      const answer = genuine.respond(apdu);
      return Uint8Array.from([...answer.subarray(0, answer.length - 2), 0x69, 0x85]);
    });
    expect((await refusedCard(card, 'card-auth-failed')).detail).toMatch(/6985/);
  });
});

describe('certificates', () => {
  it.each(ALGS)('%s: a certificate by an impostor issuer key is bad-signature and names nobody', async (alg) => {
    const refusal = await refusedCard(issueCard(issuers[alg].impostor(), alg), 'bad-signature');
    expect(refusal.identity).toBeUndefined();
  });

  it('a certificate with a flipped bit is bad-signature', async () => {
    const card = issueCard();
    const certificate = Uint8Array.from(card.certificate);
    certificate[certificate.length - 5]! ^= 0x10;
    await refusedCard(new VirtualCard(NUMBER, certificate, makeKeyPair('ES256')), 'bad-signature');
  });

  it('a certificate from an issuer not in the trust list is unknown-issuer', async () => {
    await refusedCard(issueCard(new TestIssuer('xx.not-trusted')), 'unknown-issuer');
  });

  it('a certificate under an unknown kid is unknown-key', async () => {
    await refusedCard(issueCard(new TestIssuer(es.id, 'ES256')), 'unknown-key');
  });

  it('a certificate under a retired issuer key is unknown-key', async () => {
    verifier = new CardVerifier(TrustStore.fromDocument({ issuers: [{ id: es.id, keys: [es.jwk({ exp: NOW - 86_400 })] }] }));
    await refusedCard(issueCard(), 'unknown-key');
  });

  it('an expired certificate is expired, after the card proved its key, and names the card', async () => {
    const refusal = await refusedCard(issueCard(es, 'ES256', { iat: NOW - 400 * 86_400, exp: NOW - 31 }), 'expired');
    expect(refusal.identity).toEqual(identity());
  });

  it('a certificate expired by less than the skew is accepted', async () => {
    const card = issueCard(es, 'ES256', { iat: NOW - 400 * 86_400, exp: NOW - 29 });
    expect((await verifier.verify(await simChannel(card), check())).subject).toBe(NUMBER);
  });

  it('a certificate not valid yet is not-yet-valid', async () => {
    const refusal = await refusedCard(issueCard(es, 'ES256', { nbf: NOW + 3600 }), 'not-yet-valid');
    expect(refusal.identity).toEqual(identity());
  });

  it('a certificate whose claims are not a map is malformed', async () => {
    const key = makeKeyPair('ES256');
    const refusal = await refusedCard(new VirtualCard(NUMBER, coseSign1(es.key, encode([es.id, NUMBER]), { kid: es.kid }), key), 'malformed');
    expect(refusal.detail).toMatch(/claims are not a map/);
  });

  it('a certificate without cnf is malformed', async () => {
    const claims = claimsMap({ iss: es.id, sub: NUMBER, exp: NOW + 86_400, iat: NOW - 60, category: 'adult' });
    const key = makeKeyPair('ES256');
    await refusedCard(new VirtualCard(NUMBER, coseSign1(es.key, encode(claims), { kid: es.kid }), key), 'malformed');
  });

  it('a certificate of exactly 4096 bytes is accepted', async () => {
    const card = cardWithCertificateOf(4096);
    expect(card.certificate.length).toBe(4096);
    expect((await verifier.verify(await simChannel(card), check())).subject).toBe(NUMBER);
  });

  it('a certificate longer than 4096 bytes is malformed, though signed for real', async () => {
    const card = cardWithCertificateOf(4097);
    const refusal = await refusedCard(card, 'malformed');
    expect(refusal.detail).toMatch(/longer than 4096/);
  });

  it('a card that answers READ BINARY without end stops being read after 4096 bytes', async () => {
    let reads = 0;
    const endless = responder((apdu) => {
      if (apdu[1] !== INS_READ_BINARY) return sw(0x9000);
      reads++;
      return reads > 100 ? sw(0x6b00) : Uint8Array.from([...new Uint8Array(240), 0x90, 0x00]);
    });
    const refusal = await refusedCard(endless, 'malformed');
    expect(refusal.detail).toMatch(/longer than 4096/);
    expect(reads).toBeLessThanOrEqual(18);
  });

  describe('a new trust list (setTrust) applies to cached certificates', () => {
    it('issuer dropped: unknown-issuer', async () => {
      const card = issueCard();
      await verifier.verify(await simChannel(card), check());
      verifier.setTrust(trustOf([issuers.EdDSA]));
      await refusedCard(card, 'unknown-issuer');
    });

    it('another key under the same kid: the certificate is verified again and fails', async () => {
      const card = issueCard();
      await verifier.verify(await simChannel(card), check());
      verifier.setTrust(trustOf([es.impostor()]));
      await refusedCard(card, 'bad-signature');
    });
  });
});

describe('cards that leave the field', () => {
  it.each(ALGS)('%s: removed before or after any APDU is card-removed; only the full exchange is accepted', async (alg) => {
    const card = VirtualCard.issue(issuers[alg], NUMBER, { iat: NOW - 60, category: 'student', product: { note: 'y'.repeat(300) } as ClaimSet['product'] }, alg);
    const full = await recordingChannel(card);
    await verifier.verify(full, check());
    const total = full.log.length;
    expect(total).toBeGreaterThanOrEqual(4); // SELECT, two READ BINARY at least, INTERNAL AUTHENTICATE
    for (let n = 0; n < total; n++) {
      const refusal = await refusedCard(card, 'card-removed', { presentation: { removeAfterApdus: n } });
      const step = n === 0 ? /^SELECT/ : n < total - 1 ? /^READ BINARY/ : /^INTERNAL AUTHENTICATE/;
      expect(refusal.detail).toMatch(step);
      // Only once the certificate verified does the refusal name the card.
      expect(refusal.identity).toEqual(n === total - 1 ? identity(issuers[alg]) : undefined);
    }
    expect((await verifier.verify(await simChannel(card, { removeAfterApdus: total }), check())).subject).toBe(NUMBER);
  });

  it('removed in the middle of a GET RESPONSE chain is card-removed', async () => {
    const card = new GetResponseCard(issueCard(), 100);
    const full = await recordingChannel(card);
    await verifier.verify(full, check());
    for (let n = 1; n < full.log.length; n++) {
      await refusedCard(card, 'card-removed', { presentation: { removeAfterApdus: n } });
    }
  });

  it.each([
    ['removed', 'card-removed'],
    ['reader-gone', 'card-removed'],
    ['io', 'card-removed'],
    ['timeout', 'card-timeout'],
  ] as const)('a reader error of kind %s at any step is %s', async (kind, reason) => {
    const card = cardWithCertificateOf(300);
    const full = await recordingChannel(card);
    await verifier.verify(full, check());
    expect(full.log).toHaveLength(4); // SELECT, READ BINARY twice, INTERNAL AUTHENTICATE
    for (let at = 0; at < full.log.length; at++) {
      const channel = new RecordingChannel(await simChannel(card), { at, error: new CardIoError(kind, 'test') });
      const refusal = await asyncRefusalFrom(() => verifier.verify(channel, check()));
      expect(refusal.reason).toBe(reason);
    }
  });

  it('a transmit timeout is card-timeout, with the step in the detail', async () => {
    const channel = new RecordingChannel(await simChannel(issueCard()), { at: 2, error: timeoutError() });
    const refusal = await asyncRefusalFrom(() => verifier.verify(channel, check()));
    expect(refusal.reason).toBe('card-timeout');
    expect(refusal.detail).toMatch(/^INTERNAL AUTHENTICATE/);
  });

  it('passes the configured APDU timeout to the reader', async () => {
    const inner = await simChannel(issueCard());
    const timeouts: number[] = [];
    const channel = { ...inner, readerName: inner.readerName, atr: inner.atr, transmit: (apdu: Uint8Array, ms: number) => (timeouts.push(ms), inner.transmit(apdu, ms)), release: () => inner.release() };
    await verifier.verify(channel, check({ apduTimeoutMs: 275 }));
    expect(new Set(timeouts)).toEqual(new Set([275]));
  });
});

describe('cards that are not CG cards', () => {
  it.each([
    ['6A82 (application not found)', 0x6a82],
    ['6D00 (instruction not supported)', 0x6d00],
    ['6E00 (class not supported)', 0x6e00],
    ['6283 (selected file invalidated)', 0x6283],
    ['a random status word (1234)', 0x1234],
  ])('SELECT answered %s is card-not-supported', async (_what, status) => {
    await refusedCard(new ScriptedCard([sw(status)]), 'card-not-supported');
  });
});

describe('broken cards and hostile devices', () => {
  it.each([
    ['an empty response to SELECT', 'malformed', [new Uint8Array(0)]],
    ['a 1-byte response to SELECT', 'malformed', [Uint8Array.of(0x90)]],
    ['SELECT ok, then an empty response', 'malformed', [sw(0x9000), new Uint8Array(0)]],

    ['SELECT ok, then 9000 without data', 'malformed', [sw(0x9000), sw(0x9000)]],
    ['SELECT ok, then READ BINARY refused (6982)', 'malformed', [sw(0x9000), sw(0x6982)]],
    ['SELECT ok, then a random status word', 'malformed', [sw(0x9000), sw(0x0102)]],
    ['SELECT ok, then garbage with 9000', 'malformed', [sw(0x9000), Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x90, 0x00)]],
    ['61xx for ever', 'malformed', [Uint8Array.of(0x61, 0x10)]],
    ['6Cxx for ever', 'malformed', [Uint8Array.of(0x6c, 0x10)]],
    ['61xx, then a short response', 'malformed', [Uint8Array.of(0x61, 0x02), Uint8Array.of(0x90)]],
  ] as Array<[string, RefusalReason, Uint8Array[]]>)('%s: %s', async (_what, reason, responses) => {
    await refusedCard(new ScriptedCard(responses), reason);
  });

  it('SELECT ok, then 6B00 at once: no certificate, malformed', async () => {
    const refusal = await refusedCard(new ScriptedCard([sw(0x9000), sw(0x6b00)]), 'malformed');
    expect(refusal.detail).toMatch(/certificate is empty/);
  });

  it('a certificate whose READ BINARY data comes under an error status (6982) is malformed, even if the bytes are genuine', async () => {
    const genuine = issueCard();
    const card = tampered(genuine, (apdu) => {
      if (apdu[1] !== INS_READ_BINARY) return undefined;
      const answer = genuine.respond(apdu);
      return answer[answer.length - 2] === 0x90 ? Uint8Array.from([...answer.subarray(0, answer.length - 2), 0x69, 0x82]) : answer;
    });
    expect((await refusedCard(card, 'malformed')).detail).toMatch(/READ BINARY at 0 answered 6982/);
  });

  it('a last READ BINARY answered 6282 (end of file reached) ends the certificate, as ISO 7816-4 allows', async () => {
    const genuine = cardWithCertificateOf(300);
    const card = tampered(genuine, (apdu) => {
      if (apdu[1] !== INS_READ_BINARY) return undefined;
      const answer = genuine.respond(apdu);
      const short = answer.length - 2 < 240 && answer[answer.length - 2] === 0x90;
      return short ? Uint8Array.from([...answer.subarray(0, answer.length - 2), 0x62, 0x82]) : answer;
    });
    const channel = await recordingChannel(card);
    expect((await verifier.verify(channel, check())).subject).toBe(NUMBER);
    expect(channel.log.filter((e) => e.command[1] === INS_READ_BINARY)).toHaveLength(2);
  });

  it('an endless 61xx chain is cut after a bounded number of exchanges', async () => {
    const channel = await recordingChannel(new ScriptedCard([Uint8Array.of(0x61, 0x10)]));
    const refusal = await asyncRefusalFrom(() => verifier.verify(channel, check()));
    expect(refusal.reason).toBe('malformed');
    expect(refusal.detail).toMatch(/kept asking/);
    expect(channel.log.length).toBeLessThanOrEqual(16);
  });

  it('a certificate that is genuine but answered with 6Cxx on READ BINARY is still read: 6Cxx resends with Le = xx', async () => {
    const card = new ExactLeCard(issueCard());
    const channel = await recordingChannel(card);
    expect((await verifier.verify(channel, check())).subject).toBe(NUMBER);
    expect(card.corrections.length).toBeGreaterThanOrEqual(2); // the short last READ BINARY and INTERNAL AUTHENTICATE
    for (let i = 0; i < channel.log.length; i++) {
      const { command, response } = channel.log[i]!;
      if (response![0] !== 0x6c) continue;
      const resent = channel.log[i + 1]!.command;
      expect([...resent.subarray(0, resent.length - 1)]).toEqual([...command.subarray(0, command.length - 1)]);
      expect(resent[resent.length - 1]).toBe(response![1]);
    }
  });

  it.each([
    ['in one piece', 256],
    ['in pieces of 100 bytes', 100],
    ['in pieces of 32 bytes', 32],
  ])('a card that answers 61xx is read with GET RESPONSE %s', async (_what, chunk) => {
    const card = new GetResponseCard(issueCard(issuers.EdDSA, 'EdDSA'), chunk);
    const channel = await recordingChannel(card);
    expect((await verifier.verify(channel, check())).issuer).toBe(issuers.EdDSA.id);
    const getResponses = channel.log.filter((e) => e.command[1] === INS_GET_RESPONSE);
    expect(getResponses.length).toBeGreaterThan(0);
    for (let i = 1; i < channel.log.length; i++) {
      const { command } = channel.log[i]!;
      if (command[1] !== INS_GET_RESPONSE) continue;
      const previous = channel.log[i - 1]!.response!;
      expect(previous[previous.length - 2]).toBe(0x61);
      expect([...command]).toEqual([0x00, 0xc0, 0x00, 0x00, previous[previous.length - 1]]);
    }
  });

  it('random answers from a hostile device always end in a refusal with a known reason, never another error', async () => {
    const random = prng(7816);
    const genuine = issueCard();
    for (let tap = 0; tap < 400; tap++) {
      const noise = responder((apdu) => {
        const roll = random();
        if (roll < 0.1) return Uint8Array.from({ length: Math.floor(random() * 3) }, () => Math.floor(random() * 256));
        if (roll < 0.2) return Uint8Array.of(0x61, Math.floor(random() * 256));
        if (roll < 0.3) return Uint8Array.of(0x6c, Math.floor(random() * 256));
        if (roll < 0.4) return Uint8Array.from({ length: 2 + Math.floor(random() * 300) }, () => Math.floor(random() * 256));
        const real = Uint8Array.from(genuine.respond(apdu));
        if (roll < 0.6) real[Math.floor(random() * real.length)]! ^= 1 << Math.floor(random() * 8);
        return real;
      });
      const channel = await simChannel(noise);
      try {
        await verifier.verify(channel, check());
      } catch (error) {
        expect(error).toBeInstanceOf(Refusal);
        expect(ALL_REASONS).toContain((error as Refusal).reason);
      }
    }
  });
});
