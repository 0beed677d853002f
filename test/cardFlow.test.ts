import { describe, expect, it } from 'vitest';
import type { CardChannel } from '../hal/cardReader.js';
import { CG_AID } from '../src/core/credentials/apdu.js';
import { CardVerifier, type CardCheck } from '../src/core/credentials/cardVerifier.js';
import { DeadlineChannel } from '../src/core/credentials/deadlineChannel.js';
import { CaKeyStore } from '../src/core/credentials/emv/capk.js';
import { PPSE } from '../src/core/credentials/ppse.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { Refusal } from '../src/core/reasons.js';
import { TestIssuer } from '../sim/issuer.js';
import { VirtualCard } from '../sim/virtualCard.js';
import { asyncRefusalFrom, NOW, NOW_MS, RecordingChannel, responder, simChannel, sw, trustOf } from './fixtures.js';

/*
 * The card flow: PPSE first where a payment application is enabled, the
 * gate's order of applications, the fall to the CG card and UID badges, and
 * one deadline for the whole flow.
 */

const UNIONPAY_DEBIT = 'A000000333010101';
const UNIONPAY_CREDIT = 'A000000333010102';
const VISA = 'A0000000031010';
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const bank = { capk: CaKeyStore.parse([], 'test'), tokenKey: new Uint8Array(32) };
const check = (overrides: Partial<CardCheck> = {}): CardCheck => ({ nowMs: NOW_MS, skewSec: 30, gateId: 'gate-1', apduTimeoutMs: 500, ...overrides });

/** BER-TLV with short or 81/82 lengths, written here so the test does not lean on the parser under test. */
function tlv(tag: number, ...value: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(value);
  const tagBytes = tag > 0xff ? [tag >> 8, tag & 0xff] : [tag];
  const length = body.length < 0x80 ? [body.length] : body.length < 0x100 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 0xff];
  return Buffer.concat([Uint8Array.from([...tagBytes, ...length]), body]);
}

const hex = (text: string): Uint8Array => Buffer.from(text, 'hex');

function ppseFci(entries: { aid: string; priority?: number }[]): Uint8Array {
  const directory = entries.map((e) => tlv(0x61, tlv(0x4f, hex(e.aid)), ...(e.priority ? [tlv(0x87, Uint8Array.of(e.priority))] : [])));
  return Buffer.concat([tlv(0x6f, tlv(0x84, PPSE), tlv(0xa5, tlv(0xbf0c, ...directory))), sw(0x9000)]);
}

function selectedAid(apdu: Uint8Array): string {
  return Buffer.from(apdu.subarray(5, 5 + apdu[4]!)).toString('hex').toUpperCase();
}

/** A card with a PPSE directory whose applications all answer SELECT with `answer`; anything else is 6D00. */
function paymentCard(entries: { aid: string; priority?: number }[], answer = sw(0x6985)) {
  return responder((apdu) => {
    if (apdu[1] !== 0xa4) return sw(0x6d00);
    const aid = selectedAid(apdu);
    if (aid === Buffer.from(PPSE).toString('hex').toUpperCase()) return ppseFci(entries);
    return entries.some((e) => e.aid === aid) ? answer : sw(0x6a82);
  });
}

async function run(verifier: CardVerifier, card: ReturnType<typeof responder> | VirtualCard, overrides: Partial<CardCheck> = {}) {
  const channel = new RecordingChannel(await simChannel(card));
  const outcome = await verifier.verify(channel, check(overrides)).then(
    (credential) => ({ credential, refusal: undefined }),
    (error: unknown) => ({ credential: undefined, refusal: error as Refusal }),
  );
  return { ...outcome, selects: channel.log.filter((e) => e.command[1] === 0xa4).map((e) => selectedAid(e.command)) };
}

describe('the card flow', () => {
  it('a CG-only gate never asks for the PPSE: the CG card flow is what it was', async () => {
    const card = VirtualCard.issue(issuer, '3101000012345678', { iat: NOW - 60, exp: NOW + 86_400 });
    const { credential, selects } = await run(new CardVerifier(trustOf([issuer])), card, { applications: ['cg'] });
    expect(credential?.kind).toBe('card');
    expect(selects).toEqual([Buffer.from(CG_AID).toString('hex').toUpperCase()]);
  });

  it('takes the highest-priority UnionPay application the PPSE lists, never another scheme', async () => {
    const card = paymentCard([
      { aid: VISA, priority: 1 },
      { aid: UNIONPAY_CREDIT, priority: 3 },
      { aid: UNIONPAY_DEBIT, priority: 2 },
    ]);
    const { refusal, selects } = await run(new CardVerifier(trustOf([issuer]), bank), card);
    expect(selects.slice(0, 2)).toEqual(['325041592E5359532E4444463031', UNIONPAY_DEBIT]);
    // The application said no (6985 to GET PROCESSING OPTIONS is not reached: SELECT itself refused).
    expect(refusal).toBeInstanceOf(Refusal);
    expect(refusal?.reason).toBe('card-not-supported');
    expect(refusal?.card).toMatchObject({ kind: 'emv', application: UNIONPAY_DEBIT });
  });

  it('a card with no UnionPay application and no CG application is card-not-supported, saying what was tried', async () => {
    const { refusal, selects } = await run(new CardVerifier(trustOf([issuer]), bank), paymentCard([{ aid: VISA }]));
    expect(refusal?.reason).toBe('card-not-supported');
    expect(refusal?.detail).toContain('qpboc (not in the card');
    expect(refusal?.detail).toContain('cg (SELECT answered 6A82');
    expect(selects).not.toContain(VISA);
  });

  it('a CG card at a gate that also takes bank cards: no PPSE, so the CG card', async () => {
    const card = VirtualCard.issue(issuer, '3101000012345678', { iat: NOW - 60, exp: NOW + 86_400 });
    const { credential, selects } = await run(new CardVerifier(trustOf([issuer]), bank), card);
    expect(credential).toMatchObject({ kind: 'card', subject: '3101000012345678' });
    expect(selects[0]).toBe('325041592E5359532E4444463031');
  });

  it('follows the gate\'s order: CG first when configured so', async () => {
    const card = VirtualCard.issue(issuer, '3101000012345678', { iat: NOW - 60, exp: NOW + 86_400 });
    const { credential, selects } = await run(new CardVerifier(trustOf([issuer]), bank), card, { applications: ['cg', 'qpboc'] });
    expect(credential?.kind).toBe('card');
    expect(selects).toHaveLength(1);
  });

  it('without CA keys a gate takes no bank card, whatever its list says', async () => {
    const { refusal, selects } = await run(new CardVerifier(TrustStore.fromDocument({ issuers: [] })), paymentCard([{ aid: UNIONPAY_DEBIT }]), { applications: ['qpboc', 'cg'] });
    expect(refusal?.reason).toBe('card-not-supported');
    expect(selects).not.toContain('325041592E5359532E4444463031');
  });

  it('a UID badge only where UID cards are allowed, after everything else', async () => {
    const badge = responder((apdu) => (apdu[0] === 0xff && apdu[1] === 0xca ? Uint8Array.of(0x04, 0xa1, 0xb2, 0xc3, 0x90, 0x00) : sw(0x6a82)));
    const verifier = new CardVerifier(trustOf([issuer]), bank);
    expect((await run(verifier, badge, { uidCards: true })).credential).toMatchObject({ kind: 'uid', subject: '04A1B2C3' });
    expect((await run(verifier, badge, { uidCards: false })).refusal?.reason).toBe('card-not-supported');
  });
});

/** A card that takes `delayMs` for every answer and never finishes: 61xx (more data) for ever. */
class SlowChattyChannel implements CardChannel {
  readonly readerName = 'slow reader';
  readonly atr = Uint8Array.of(0x3b, 0x00);
  exchanges = 0;

  constructor(private readonly delayMs: number) {}

  async transmit(): Promise<Uint8Array> {
    this.exchanges++;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return sw(0x61ff);
  }

  async release(): Promise<void> {}
}

describe('the card deadline', () => {
  it('a slow, chatty card is one card-timeout once the deadline passes, not minutes of exchanges', async () => {
    const channel = new SlowChattyChannel(60);
    const refusal = await asyncRefusalFrom(() => new CardVerifier(trustOf([issuer]), bank).verify(channel, check({ deadlineMs: 200 })));
    expect(refusal.reason).toBe('card-timeout');
    expect(refusal.detail).toContain('200 ms deadline');
    // Each exchange takes at least 60 ms, so at most four fit in 200 ms: without the deadline it would be 16 per command.
    expect(channel.exchanges).toBeLessThanOrEqual(4);
  });

  it('gives each exchange what is left of the deadline at most, and refuses to start one after it', async () => {
    let now = 0;
    const timeouts: number[] = [];
    const inner: CardChannel = {
      readerName: 'r',
      atr: new Uint8Array(0),
      transmit: async (_apdu, timeoutMs) => {
        timeouts.push(timeoutMs);
        now += 300;
        return sw(0x9000);
      },
      release: async () => {},
    };
    const channel = new DeadlineChannel(inner, 1000, () => now);
    for (let i = 0; i < 4; i++) await channel.transmit(Uint8Array.of(0), 500);
    expect(timeouts).toEqual([500, 500, 400, 100]);
    await expect(channel.transmit(Uint8Array.of(0), 500)).rejects.toMatchObject({ kind: 'timeout' });
  });
});
