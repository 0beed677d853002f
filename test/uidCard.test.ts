import { describe, expect, it } from 'vitest';
import { CardIoError } from '../hal/cardReader.js';
import { CG_AID, selectAid } from '../src/core/credentials/apdu.js';
import { CardVerifier, type CardCheck } from '../src/core/credentials/cardVerifier.js';
import { GET_UID } from '../src/core/credentials/uidCard.js';
import { TestIssuer } from '../sim/issuer.js';
import { UidCard } from '../sim/uidCard.js';
import { VirtualCard, type ApduResponder } from '../sim/virtualCard.js';
import { asyncRefusalFrom, NOW, NOW_MS, recordingChannel, responder, sw, timeoutError, trustOf } from './fixtures.js';

/*
 * UID-only cards (DESIGN.md §3 "other card kinds"): a card without the CG
 * application is asked GET DATA `FF CA 00 00 00` only where the gate allows
 * UID cards; every answer that is not a 4, 7 or 10 byte UID with 9000 is
 * `card-not-supported`, as before.
 */

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const verifier = new CardVerifier(trustOf([issuer]));
const check = (uidCards: boolean): CardCheck => ({ nowMs: NOW_MS, skewSec: 30, gateId: 'gate-uid', apduTimeoutMs: 500, uidCards });
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase();

/** Answers SELECT with 6A82 and GET DATA with the given responses, in turn. */
function noApplication(...uidAnswers: Uint8Array[]): ApduResponder {
  let next = 0;
  return responder((apdu) => (apdu[0] === 0xff ? (uidAnswers[Math.min(next++, uidAnswers.length - 1)] ?? sw(0x6f00)) : sw(0x6a82)));
}

async function refused(card: ApduResponder, reason: string, uidCards = true) {
  const channel = await recordingChannel(card);
  const refusal = await asyncRefusalFrom(() => verifier.verify(channel, check(uidCards)));
  expect(refusal.reason).toBe(reason);
  expect(refusal.identity).toBeUndefined();
  return { refusal, channel };
}

describe('reading a UID card', () => {
  it.each(['04A1B2C3', '04A1B2C3D4E5F6', '04A1B2C3D4E5F60718AB'])('reads a %s UID after the CG SELECT answered 6A82', async (uid) => {
    const channel = await recordingChannel(new UidCard(uid.toLowerCase()));
    const credential = await verifier.verify(channel, check(true));
    expect(credential).toEqual({ kind: 'uid', profile: 'uid', issuer: 'uid', subject: uid, category: 'staff', product: undefined, cti: undefined, replay: undefined });
    expect(channel.log.map((e) => hex(e.command))).toEqual([hex(selectAid(CG_AID)), 'FFCA000000']);
  });

  it('never asks for the UID where the gate does not allow UID cards', async () => {
    const { refusal, channel } = await refused(new UidCard('04A1B2C3D4E5F6'), 'card-not-supported', false);
    expect(refusal.detail).toContain('6A82');
    expect(channel.log).toHaveLength(1);
  });

  it('reads a CG card the CG way on a gate that allows UID cards: no GET DATA', async () => {
    const card = VirtualCard.issue(issuer, 'C-1', { iat: NOW - 86_400, category: 'senior' });
    const channel = await recordingChannel(card);
    const credential = await verifier.verify(channel, check(true));
    expect(credential).toMatchObject({ kind: 'card', profile: 'card', subject: 'C-1' });
    expect(channel.log.some((e) => e.command[0] === 0xff)).toBe(false);
  });

  it.each([0x6d00, 0x6e00, 0x6999])('does not fall back to the UID when SELECT answered %s (not "no such application")', async (status) => {
    const { channel } = await refused(responder(() => sw(status)), 'card-not-supported');
    expect(channel.log).toHaveLength(1);
  });

  it.each([
    ['function not supported', sw(0x6a81)],
    ['wrong P1P2', sw(0x6b00)],
    ['no UID bytes', sw(0x9000)],
    ['5 bytes', Uint8Array.of(1, 2, 3, 4, 5, 0x90, 0x00)],
    ['11 bytes', Uint8Array.of(...new Array<number>(11).fill(0xab), 0x90, 0x00)],
    ['a 4-byte UID with a warning status', Uint8Array.of(1, 2, 3, 4, 0x62, 0x82)],
  ])('refuses a GET DATA answer of %s as card-not-supported', async (_what, answer) => {
    const { refusal } = await refused(noApplication(answer), 'card-not-supported');
    expect(refusal.detail).toContain('GET DATA (UID)');
  });

  it('refuses a GET DATA answer without a status word as malformed', async () => {
    await refused(noApplication(Uint8Array.of(0x90)), 'malformed');
  });

  it('follows 6Cxx (resend with the right Le) and 61xx (GET RESPONSE) from readers that use them', async () => {
    const uid = Uint8Array.of(0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66);
    const wrongLe = await recordingChannel(
      responder((apdu) => {
        if (apdu[0] !== 0xff) return sw(0x6a82);
        return apdu[4] === 7 ? Uint8Array.of(...uid, 0x90, 0x00) : sw(0x6c07);
      }),
    );
    expect((await verifier.verify(wrongLe, check(true))).subject).toBe('04112233445566');
    expect(hex(wrongLe.log.at(-1)!.command)).toBe('FFCA000007');

    const moreData = await recordingChannel(
      responder((apdu) => {
        if (apdu[0] === 0xff) return sw(0x6107);
        return apdu[1] === 0xc0 ? Uint8Array.of(...uid, 0x90, 0x00) : sw(0x6a82);
      }),
    );
    expect((await verifier.verify(moreData, check(true))).subject).toBe('04112233445566');
  });

  it('a card that times out or leaves during GET DATA is card-timeout or card-removed, with nobody named', async () => {
    const slow = await recordingChannel(new UidCard('04A1B2C3'), { at: 1, error: timeoutError() });
    expect((await asyncRefusalFrom(() => verifier.verify(slow, check(true)))).reason).toBe('card-timeout');
    const gone = await recordingChannel(new UidCard('04A1B2C3'), { at: 1, error: new CardIoError('removed', 'card left the field') });
    const refusal = await asyncRefusalFrom(() => verifier.verify(gone, check(true)));
    expect(refusal.reason).toBe('card-removed');
    expect(refusal.identity).toBeUndefined();
  });
});

describe('sim UidCard', () => {
  const card = new UidCard('04A1B2C3D4E5F6');

  it('answers as a reader does for a UID-only card', () => {
    expect(hex(card.respond(selectAid(CG_AID)))).toBe('6A82');
    expect(hex(card.respond(GET_UID))).toBe('04A1B2C3D4E5F69000');
    expect(hex(card.respond(Uint8Array.of(0xff, 0xca, 0x00, 0x00, 0x04)))).toBe('6C07');
    expect(hex(card.respond(Uint8Array.of(0xff, 0xca, 0x01, 0x00, 0x00)))).toBe('6B00');
    expect(hex(card.respond(Uint8Array.of(0x00, 0xb0, 0x00, 0x00, 0x10)))).toBe('6D00');
    expect(hex(card.respond(Uint8Array.of(0x80, 0xca)))).toBe('6700');
  });

  it.each(['04A1B2', '04A1B2C3D4', 'XYZ1B2C3', ''])('will not be made with the UID %j', (uid) => {
    expect(() => new UidCard(uid)).toThrow(/4, 7 or 10 bytes/);
  });
});
