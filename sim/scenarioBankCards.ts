import { constants, createHmac, publicDecrypt, randomBytes } from 'node:crypto';
import type { CardChannel } from '../hal/cardReader.js';
import type { CardApplicationName } from '../src/core/credentials/cardApplication.js';
import { CardVerifier } from '../src/core/credentials/cardVerifier.js';
import { CaKeyStore } from '../src/core/credentials/emv/capk.js';
import { RevocationList } from '../src/core/credentials/emv/revocationList.js';
import type { BankCardKeys } from '../src/core/credentials/qpbocCard.js';
import type { TrustStore } from '../src/core/credentials/trustList.js';
import type { GateSettings } from '../src/core/settings.js';
import type { CardPresentation } from './devices.js';
import { personaliseBankCard, type BankCardOptions } from './emv/bankCardProfile.js';
import { capkEntry } from './emv/capkFile.js';
import { makeCardIssuer, type CardIssuer } from './emv/cardIssuer.js';
import { makeTestCa, type TestCa } from './emv/testCa.js';
import { VirtualBankCard } from './emv/virtualBankCard.js';
import { BANK_CARD_ISSUER, DENIED_PAN, type Fault, type Scenario, type ScenarioPassenger } from './scenario.js';
import type { ApduResponder } from './virtualCard.js';

/*
 * The bank cards (UnionPay QuickPass) of a scenario's passengers: test CAs,
 * RSA and SM2, an issuer per card BIN under each, the CAPK store and a token
 * key for the gate, and one card per PAN and PSN all scenario long. Faults
 * are made here, with the simulated cards of sim/emv (never the gate's code).
 */

export type BankCardSpec = NonNullable<ScenarioPassenger['bankCard']>;
type Algorithm = BankCardSpec['algorithm'];

/** A gate taking bank cards in a scenario, unless its gate section says otherwise. */
export const BANK_CARD_DEADLINE_MS = 1_000;
/** A CA index no test CA uses and the scenario's CAPK store lacks. */
const UNKNOWN_CA_INDEX = 'E9';
/** A card of another scheme only: Visa credit. */
const VISA_AID = 'A0000000031010';
const DAY = 86_400;

/*
 * Key generation is the slow part (RSA CA and issuer keys): the CAs and
 * issuers are made once per process and shared by every run. The cards, the
 * token key and the CAPK store a gate gets are each run's own.
 */
const testCas = new Map<Algorithm, TestCa>();
const cardIssuers = new Map<string, CardIssuer>();

function testCa(algorithm: Algorithm): TestCa {
  let ca = testCas.get(algorithm);
  if (!ca) {
    ca = makeTestCa({ algorithm });
    testCas.set(algorithm, ca);
  }
  return ca;
}

/** The issuer of the cards of one BIN under one CA; `revoked`: another issuer of the same BIN, whose certificate the gate's revocation list names. */
function cardIssuer(algorithm: Algorithm, bin: string, revoked = false): CardIssuer {
  const key = `${algorithm}:${bin}:${revoked ? 'revoked' : 'good'}`;
  let issuer = cardIssuers.get(key);
  if (!issuer) {
    issuer = makeCardIssuer(testCa(algorithm), { bin });
    cardIssuers.set(key, issuer);
  }
  return issuer;
}

/**
 * The issuer certificate's serial, read here from the certificate: SM2 `12 |
 * issuer id(4) | MMYY | serial(3) | ...`; RSA recovered with the test CA's
 * key, `6A 02 | issuer id(4) | MMYY | serial(3) | ...` (EMV Book 2 §5.3).
 */
function issuerSerial(issuer: CardIssuer, ca: TestCa): string {
  if (ca.key.algorithm === 'SM2') return issuer.certificate.subarray(7, 10).toString('hex').toUpperCase();
  const recovered = publicDecrypt({ key: ca.key.key, padding: constants.RSA_NO_PADDING }, issuer.certificate);
  return recovered.subarray(8, 11).toString('hex').toUpperCase();
}

/** The token of a bank card, from its definition (docs/credentials.md): HMAC-SHA256(token key, `PAN:PSN`), first 16 bytes in hex. */
export function bankCardToken(tokenKey: Uint8Array, pan: string, psn: string): string {
  return createHmac('sha256', tokenKey).update(`${pan}:${psn}`).digest().subarray(0, 16).toString('hex');
}

/** The bank cards among the passengers of the file (the crowd has none). */
export function bankCardsOf(scenario: Pick<Scenario, 'passengers'>): { spec: BankCardSpec; fault: Fault | undefined }[] {
  return scenario.passengers.flatMap((entry) => ('event' in entry || !entry.bankCard ? [] : [{ spec: entry.bankCard, fault: entry.fault }]));
}

/** YYMMDD of a time (UTC), as `5F24` and `5F25` carry it. */
function yymmdd(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(2, 10).replaceAll('-', '');
}

/**
 * A gate of a scenario with bank cards: it takes QuickPass before the CG
 * card, with the one-second deadline of the field (and UID badges where the
 * gate enables them), unless its gate section sets `cards` itself.
 */
export function withBankCards(settings: GateSettings): GateSettings {
  if (settings.cards) return settings;
  const applications: CardApplicationName[] = ['qpboc', 'cg', ...(settings.access?.uidCards ? (['uid'] as const) : [])];
  return { ...settings, cards: { applications, deadlineMs: BANK_CARD_DEADLINE_MS } };
}

export class BankCards {
  /** What the gate is assembled with: the test CAs' keys, a token key, the revoked issuers. */
  readonly keys: BankCardKeys & { tokenKey: Uint8Array };
  private readonly cards = new Map<string, VirtualBankCard>();
  /** The PSNs each PAN is presented with in the scenario, for deny-list entries naming only the PAN. */
  private readonly psns = new Map<string, Set<string>>();
  /** The issuers the scenario's cards come from: algorithm, BIN, revoked. */
  private readonly issuers = new Map<string, CardIssuer>();

  private constructor(
    specs: { spec: BankCardSpec; fault: Fault | undefined }[],
    private readonly startSec: number,
  ) {
    const algorithms: Algorithm[] = ['RSA', 'SM2'];
    const revoked = new Map<string, { rid: string; index: string; serial: string }>();
    for (const { spec, fault } of specs) {
      if (!this.psns.has(spec.pan)) this.psns.set(spec.pan, new Set());
      this.psns.get(spec.pan)!.add(spec.psn);
      const issuer = cardIssuer(spec.algorithm, spec.pan.slice(0, 6), fault === 'revoked');
      this.issuers.set(`${spec.algorithm}:${issuer.bin}:${fault === 'revoked'}`, issuer);
      if (fault !== 'revoked') continue;
      const ca = testCa(spec.algorithm);
      revoked.set(`${spec.algorithm}:${issuer.bin}`, { rid: ca.rid, index: ca.index, serial: issuerSerial(issuer, ca) });
    }
    this.keys = {
      capk: CaKeyStore.parse(algorithms.map((a) => capkEntry(testCa(a))), 'scenario test CAs'),
      tokenKey: randomBytes(32),
      revocations: RevocationList.fromDocument({ revoked: [...revoked.values()] }, 'scenario revoked issuers'),
    };
  }

  /** The bank cards of a scenario, or undefined when no passenger presents one (the gate then takes none). */
  static forScenario(scenario: Pick<Scenario, 'passengers'>, startSec: number): BankCards | undefined {
    const specs = bankCardsOf(scenario);
    return specs.length ? new BankCards(specs, startSec) : undefined;
  }

  /**
   * Before the first passenger: one card of each issuer read by a card flow
   * of its own (nothing journaled), so that the one-time cost of the gate's
   * SM2 arithmetic (the curve's tables, and those of each CA and issuer key
   * it keeps: some 300 ms on a PC) is not charged to the first passenger's
   * one-second deadline. The verdicts do not matter here.
   */
  async warmUp(trust: TrustStore, nowMs: number): Promise<void> {
    const verifier = new CardVerifier(trust, this.keys);
    for (const issuer of this.issuers.values()) {
      const card = new VirtualBankCard(personaliseBankCard(issuer, { pan: `${issuer.bin}0000000000`, effective: yymmdd(nowMs / 1000 - 365 * DAY) }));
      const channel: CardChannel = { readerName: 'warm-up', atr: card.atr, transmit: async (apdu) => card.respond(apdu), release: async () => {} };
      await verifier.verify(channel, { nowMs, skewSec: 30, gateId: 'warm-up', apduTimeoutMs: 10_000, applications: ['qpboc'], deadlineMs: 60_000 }).catch(() => undefined);
    }
  }

  /** The token the gate gives this card. */
  token(pan: string, psn: string): string {
    return bankCardToken(this.keys.tokenKey, pan, psn);
  }

  /**
   * The scenario's deny list as the gate takes it: bank cards named by PAN
   * (`PAN:PSN`, or the PAN alone for every PSN the scenario presents it with,
   * 01 if none) become their tokens; tokens and every other issuer's entries
   * pass as written.
   */
  denyList(document: Record<string, string[]>): Record<string, string[]> {
    const entries = document[BANK_CARD_ISSUER];
    if (!entries) return document;
    const tokens = entries.flatMap((entry) => {
      const named = DENIED_PAN.exec(entry);
      if (!named) return [entry];
      const [, pan, psn] = named as unknown as [string, string, string | undefined];
      const psns = psn !== undefined ? [psn] : [...(this.psns.get(pan) ?? new Set(['01']))];
      return psns.map((p) => this.token(pan, p));
    });
    return { ...document, [BANK_CARD_ISSUER]: [...new Set(tokens)] };
  }

  /** The card a passenger presents: the same physical card for the same PAN and PSN, or one made faulty. */
  card(spec: BankCardSpec, fault: Fault | undefined, nowSec: number): { card: ApduResponder; presentation: CardPresentation } {
    const bin = spec.pan.slice(0, 6);
    const options: BankCardOptions = { pan: spec.pan, psn: spec.psn, effective: yymmdd(this.startSec - 365 * DAY) };
    const made = (issuer: CardIssuer, more: Partial<BankCardOptions>) => ({ card: new VirtualBankCard(personaliseBankCard(issuer, { ...options, ...more })), presentation: {} });
    const issuer = cardIssuer(spec.algorithm, bin);
    switch (fault) {
      case 'cloned':
        return made(issuer, { clone: true });
      case 'tampered':
        return made(issuer, { tamperRecord: true });
      case 'expired':
        return made(issuer, { expiry: yymmdd(nowSec - 40 * DAY) });
      case 'unknown-key':
        return made(issuer, { caIndex: UNKNOWN_CA_INDEX });
      case 'foreign-scheme':
        return made(issuer, { aids: [VISA_AID] });
      case 'revoked':
        return made(cardIssuer(spec.algorithm, bin, true), {});
      default:
        break;
    }
    const key = `${spec.pan}:${spec.psn}`;
    let genuine = this.cards.get(key);
    if (!genuine) {
      genuine = new VirtualBankCard(personaliseBankCard(issuer, options));
      this.cards.set(key, genuine);
    }
    // Pulled away after SELECT PPSE and SELECT of the application: before the card has signed anything.
    return { card: genuine, presentation: fault === 'removed' ? { removeAfterApdus: 2 } : {} };
  }
}
