import { constants, createHmac, publicDecrypt, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CaKeyStore } from '../src/core/credentials/emv/capk.js';
import { RevocationList } from '../src/core/credentials/emv/revocationList.js';
import { Decider, type Decision } from '../src/core/decider.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import { ReplayGuard } from '../src/core/replayGuard.js';
import type { GateSettings } from '../src/core/settings.js';
import { personaliseBankCard, type BankCardOptions } from '../sim/emv/bankCardProfile.js';
import { capkEntry } from '../sim/emv/capkFile.js';
import { makeCardIssuer, type CardIssuer } from '../sim/emv/cardIssuer.js';
import { publishedTestCard, UNIONPAY_TEST_CAPK } from '../sim/emv/publishedTestCard.js';
import { makeTestCa, type TestCa } from '../sim/emv/testCa.js';
import { VirtualBankCard } from '../sim/emv/virtualBankCard.js';
import { TestIssuer } from '../sim/issuer.js';
import type { ApduResponder } from '../sim/virtualCard.js';
import { gateSettings, NOW_MS, RecordingChannel, simChannel, trustOf } from './fixtures.js';

/*
 * UnionPay QuickPass taken offline through the gate's decider: simulated
 * cards (sim/emv, made without the gate's code) under test CAs, RSA and SM2,
 * genuine and hostile, and the public UnionPay test card under the UnionPay
 * test CA key.
 */

const TOKEN_KEY = Buffer.alloc(32, 7);
const TRUSTED = { nowMs: NOW_MS, clockTrusted: true };
const PAN = '6228001234567890';

let rsaCa: TestCa;
let sm2Ca: TestCa;
let rsaIssuer: CardIssuer;
let sm2Issuer: CardIssuer;
let capk: CaKeyStore;

beforeAll(() => {
  rsaCa = makeTestCa({ algorithm: 'RSA' });
  sm2Ca = makeTestCa({ algorithm: 'SM2' });
  rsaIssuer = makeCardIssuer(rsaCa);
  sm2Issuer = makeCardIssuer(sm2Ca);
  capk = CaKeyStore.parse([capkEntry(rsaCa), capkEntry(sm2Ca), UNIONPAY_TEST_CAPK], 'test capk');
});

function decider(settings: Partial<GateSettings> = {}, options: { deny?: MemoryDenyList; revocations?: RevocationList; capk?: CaKeyStore } = {}): Decider {
  return new Decider(
    trustOf([new TestIssuer('cq.yukuaima', 'ES256')]),
    gateSettings({ cards: { applications: ['qpboc', 'cg'], deadlineMs: 5_000 }, ...settings }),
    options.deny ?? new MemoryDenyList(),
    new ReplayGuard(),
    { capk: options.capk ?? capk, tokenKey: TOKEN_KEY, revocations: options.revocations },
  );
}

function bankCard(issuer: CardIssuer, options: Partial<BankCardOptions> = {}): VirtualBankCard {
  return new VirtualBankCard(personaliseBankCard(issuer, { pan: PAN, ...options }));
}

async function decide(card: VirtualBankCard, d: Decider = decider(), presentation: { removeAfterApdus?: number } = {}): Promise<Decision> {
  return d.decideCard(await simChannel(card, presentation), TRUSTED);
}

/** The token, computed here from its definition (docs/credentials.md), not by the gate's code. */
function expectedToken(pan: string, psn: string): string {
  return createHmac('sha256', TOKEN_KEY).update(`${pan}:${psn}`).digest().subarray(0, 16).toString('hex');
}

function refusedWith(decision: Decision, reason: string): Extract<Decision, { result: 'refused' }> {
  if (decision.result !== 'refused') throw new Error(`accepted, expected ${reason}`);
  expect(decision.reason, decision.detail).toBe(reason);
  return decision;
}

describe.each(['RSA', 'SM2'] as const)('a genuine %s card', (algorithm) => {
  const issuer = () => (algorithm === 'RSA' ? rsaIssuer : sm2Issuer);

  it.each(['00', '01'] as const)('is accepted with fDDA version %s: token subject, masked PAN, and the claim data', async (fddaVersion) => {
    const card = bankCard(issuer(), { fddaVersion, psn: '02' });
    const decision = await decide(card);
    if (decision.result !== 'accepted') throw new Error(`${decision.reason}: ${decision.detail}`);
    const c = decision.credential;
    expect(c).toMatchObject({ kind: 'emv', profile: 'emv', issuer: 'emv', subject: expectedToken(PAN, '02'), category: 'adult' });
    expect(c.emv).toMatchObject({ aid: 'A000000333010101', pan: '622800******7890', psn: '02', expiry: '2049-12-31', atc: card.transactionCounter, oda: algorithm.toLowerCase() });
    expect(Object.keys(c.emv!.data).sort()).toEqual(['5F2A', '82', '95', '9A', '9C', '9F02', '9F10', '9F26', '9F27', '9F36', '9F37'].sort());
    expect(c.emv!.data['9F36']).toBe(card.transactionCounter.toString(16).toUpperCase().padStart(4, '0'));
    expect(JSON.stringify(decision)).not.toContain(PAN);
  });

  it('with the DF60 PDOL (filled by tag, not by position)', async () => {
    expect((await decide(bankCard(issuer(), { pdol: 'extended' }))).result).toBe('accepted');
  });

  it('twice in a row: the second tap (certificates cached) is checked just the same', async () => {
    const d = decider();
    const card = bankCard(issuer());
    expect((await decide(card, d)).result).toBe('accepted');
    expect((await decide(card, d)).result).toBe('accepted');
    refusedWith(await decide(bankCard(issuer(), { clone: true }), d), 'card-auth-failed');
  });

  it('a clone (static data copied, no ICC key) is card-auth-failed', async () => {
    const decision = refusedWith(await decide(bankCard(issuer(), { clone: true })), 'card-auth-failed');
    expect(decision.detail).not.toContain(PAN);
  });

  it('a tampered record is bad-signature', async () => {
    refusedWith(await decide(bankCard(issuer(), { tamperRecord: true })), 'bad-signature');
  });

  it('a CA index the gate has no key for is unknown-key', async () => {
    refusedWith(await decide(bankCard(issuer(), { caIndex: 'E9' })), 'unknown-key');
  });

  it('an expired CA key is expired', async () => {
    const ca = algorithm === 'RSA' ? rsaCa : sm2Ca;
    const old = CaKeyStore.parse([{ ...capkEntry(ca), expiry: '2026-12-31' }], 'old capk');
    refusedWith(await decide(bankCard(issuer()), decider({}, { capk: old })), 'expired');
  });

  it('an expired card, an ICC certificate and an issuer certificate past their month, a card not yet valid', async () => {
    refusedWith(await decide(bankCard(issuer(), { expiry: '270114' })), 'expired');
    refusedWith(await decide(bankCard(issuer(), { iccCertExpiry: '1226' })), 'expired');
    const ca = algorithm === 'RSA' ? rsaCa : sm2Ca;
    refusedWith(await decide(bankCard(makeCardIssuer(ca, { certExpiry: '1226' }))), 'expired');
    refusedWith(await decide(bankCard(issuer(), { effective: '270116' })), 'not-yet-valid');
    // The last day of the card's month is still good: NOW is 2027-01-15.
    expect((await decide(bankCard(issuer(), { expiry: '270115', iccCertExpiry: '0127' }))).result).toBe('accepted');
  });

  it('a revoked issuer certificate is certificate-revoked', async () => {
    const card = bankCard(issuer());
    const accepted = await decide(card);
    expect(accepted.result).toBe('accepted');
    const revoked = RevocationList.fromDocument({ revoked: [{ rid: 'A000000333', index: (algorithm === 'RSA' ? rsaCa : sm2Ca).index, serial: issuerSerial(issuer(), algorithm) }] }, 'test');
    const d = decider({}, { revocations: revoked });
    refusedWith(await decide(card, d), 'certificate-revoked');
    d.setRevocations(RevocationList.EMPTY);
    expect((await decide(card, d)).result).toBe('accepted');
  });

  it('a deny-listed token is deny-listed, naming the token', async () => {
    const deny = MemoryDenyList.fromDocument({ emv: [expectedToken(PAN, '01')] });
    const decision = refusedWith(await decide(bankCard(issuer()), decider({}, { deny })), 'deny-listed');
    expect(decision.identity).toEqual({ issuer: 'emv', subject: expectedToken(PAN, '01'), category: 'adult' });
  });

  it('pulled from the field at any APDU is card-removed, and nothing else', async () => {
    const card = bankCard(issuer());
    const channel = new RecordingChannel(await simChannel(card));
    expect((await decider().decideCard(channel, TRUSTED)).result).toBe('accepted');
    for (let n = 0; n < channel.log.length; n++) refusedWith(await decide(bankCard(issuer()), decider(), { removeAfterApdus: n }), 'card-removed');
  });
});

/** The issuer certificate's serial, read here without the gate's code: SM2 `12 | id(4) | MMYY | serial(3)`; RSA recovered with the test CA key (raw RSA), `6A 02 id(4) MMYY serial(3)`. */
function issuerSerial(issuer: CardIssuer, algorithm: 'RSA' | 'SM2'): string {
  if (algorithm === 'SM2') return issuer.certificate.subarray(7, 10).toString('hex').toUpperCase();
  const recovered = publicDecrypt({ key: rsaCa.key.key as KeyObject, padding: constants.RSA_NO_PADDING }, issuer.certificate);
  return recovered.subarray(8, 11).toString('hex').toUpperCase();
}

/** A genuine card whose answer to one command (by INS) is replaced: a damaged chip or a hostile device. */
function corrupting(card: VirtualBankCard, ins: number, answer: (genuine: Uint8Array) => Uint8Array, times = 1): ApduResponder {
  let left = times;
  return {
    atr: card.atr,
    reset: () => card.reset(),
    respond: (apdu) => {
      const genuine = card.respond(apdu);
      if (apdu[1] !== ins || left === 0) return genuine;
      left--;
      return answer(genuine);
    },
  };
}

describe('hostile and broken cards', () => {
  const ok = Uint8Array.of(0x90, 0x00);
  it.each([
    { what: 'a SELECT answer whose TLV runs past its end', ins: 0xa4, times: 2, answer: () => Uint8Array.of(0x6f, 0x20, 0x84, 0x07, 0xa0, ...ok) },
    { what: 'a GET PROCESSING OPTIONS answer in no known template', ins: 0xa8, times: 1, answer: () => Uint8Array.of(0x70, 0x02, 0x82, 0x00, ...ok) },
    { what: 'a GET PROCESSING OPTIONS answer with a 5-byte length field', ins: 0xa8, times: 1, answer: () => Uint8Array.of(0x77, 0x85, 0, 0, 0, 0, 1, 0, ...ok) },
    { what: 'a record that is no 70 template', ins: 0xb2, times: 1, answer: () => Uint8Array.of(0x71, 0x03, 0x5f, 0x28, 0x00, ...ok) },
    { what: 'a record truncated in the middle of a certificate', ins: 0xb2, times: 3, answer: (genuine: Uint8Array) => Uint8Array.from([...genuine.subarray(0, Math.max(0, genuine.length - 40)), ...ok]) },
  ])('$what is malformed', async ({ ins, times, answer }) => {
    const card = corrupting(bankCard(rsaIssuer), ins, answer, times);
    const decision = await decider().decideCard(await simChannel(card), TRUSTED);
    if (decision.result !== 'refused') throw new Error('accepted');
    expect(decision.reason, decision.detail).toBe('malformed');
    expect(decision.detail).not.toContain('unexpected');
  });

  it('a 9F4B that recovers to garbage under the ICC key is card-auth-failed, not a crash', async () => {
    const card = bankCard(rsaIssuer);
    const garbled = corrupting(card, 0xa8, (genuine) => {
      const copy = Uint8Array.from(genuine);
      const at = Buffer.from(copy).indexOf(Buffer.from([0x9f, 0x4b]));
      copy[at + 10] = copy[at + 10]! ^ 0xff;
      return copy;
    });
    refusedWith(await decider().decideCard(await simChannel(garbled), TRUSTED), 'card-auth-failed');
  });
});

describe('cards that are not QuickPass cards', () => {
  it('a card with only another scheme (Visa) is card-not-supported', async () => {
    refusedWith(await decide(bankCard(rsaIssuer, { aids: ['A0000000031010'] })), 'card-not-supported');
  });

  it('a card without PPSE falls to the CG card, then card-not-supported', async () => {
    const decision = refusedWith(await decide(bankCard(rsaIssuer, { noPpse: true })), 'card-not-supported');
    expect(decision.detail).toContain('cg');
  });

  it('a card that asks for more exchanges for ever is malformed after 16 of them (a slow one meets the deadline: test/cardFlow)', async () => {
    const decision = refusedWith(await decide(bankCard(rsaIssuer, { chatty: true })), 'malformed');
    expect(decision.detail).toContain('kept asking for more exchanges');
  });
});

describe('the public UnionPay test card (personalisation data and the UnionPay test CA key, index 80)', () => {
  it('is accepted: issuer and ICC certificates recover, fDDA verifies with its published key', async () => {
    const decision = await decide(publishedTestCard());
    if (decision.result !== 'accepted') throw new Error(`${decision.reason}: ${decision.detail}`);
    expect(decision.credential.emv).toMatchObject({ pan: '622800******1117', psn: '01', expiry: '2030-12-31', oda: 'rsa', aid: 'A000000333010102' });
    expect(decision.credential.subject).toBe(expectedToken('6228000100001117', '01'));
  });

  it('is unknown-key to a gate without that CA key', async () => {
    const without = CaKeyStore.parse([capkEntry(rsaCa)], 'no test key');
    refusedWith(await decide(publishedTestCard(), decider({}, { capk: without })), 'unknown-key');
  });
});

describe('the amount a bank card is told', () => {
  it('is the fare an adult pays here (9F02), and 0 where the mode charges nothing', async () => {
    const metro = decider({ mode: 'metro-entry', metro: { station: 'S1', passbackMin: 20, fares: { default: 300, byRoute: {}, rules: [] } } });
    const charged = await decide(bankCard(rsaIssuer), metro);
    if (charged.result !== 'accepted') throw new Error(`${charged.reason}: ${charged.detail}`);
    expect(charged.credential.emv!.data['9F02']).toBe('000000000300');
    const free = await decide(bankCard(rsaIssuer), decider({ fares: undefined }));
    if (free.result !== 'accepted') throw new Error(`${free.reason}: ${free.detail}`);
    expect(free.credential.emv!.data['9F02']).toBe('000000000000');
  });
});
