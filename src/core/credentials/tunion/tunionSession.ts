import type { CardChannel } from '../../../../hal/cardReader.js';
import { Refusal, refuse } from '../../reasons.js';
import { exchange, SW_OK, swText } from '../apdu.js';
import type { Psam } from './psam.js';
import { algorithmId, purseAlgorithm, SM4_AVAILABLE, u16, u32 } from './purseCrypto.js';
import type { PurseTapData, PurseTransaction } from './purseData.js';
import { localDigits, purseDateTime } from './purseTime.js';
import type { TunionSettings } from './tunionSettings.js';
import { buildLogRecord, buildMetroRecord, CAPP_PURCHASE, LOG_LENGTH, METRO_RECORD, parseLogRecord, SFI_LOG, SFI_TRIP, TRIP_LENGTH, TUNION_AID, type IssuerData, type LogRecord, type MetroRecord } from './tunionFiles.js';

/** What the gate read of the card before deciding. */
export interface TunionCard {
  issuer: IssuerData;
  balance: number;
  /** This gate's metro record in file 1A; undefined when blank, missing or unreadable (`metroProblem` says which). */
  metro: MetroRecord | undefined;
  metroProblem?: string;
}

/** What the rules decided the purchase is. */
export interface PurchasePlan {
  amount: number;
  trip: PurseTapData['trip'];
  entry?: PurseTapData['entry'];
  /** The metro record to leave on the card (metro gates), written in the purchase. */
  metro?: Pick<MetroRecord, 'status' | 'city' | 'station'>;
  /** The card's own trip log record (file 1E). */
  log: { type: number; industry: number; station?: string };
  /** A pending purchase of this card that turned out never to have been paid: this tap settles it. */
  settles?: { tap: string; debited: false };
}

export interface PurchaseHooks {
  /** Kept on disk before DEBIT goes out: what the pending tap is if the answer never comes. Throws when the journal refuses, before any money moves. */
  intend(pending: PurseTapData): void;
}

export type PurchaseResult =
  | { type: 'paid'; purse: PurseTapData }
  /** No money moved. */
  | { type: 'refused'; refusal: Refusal; purse: PurseTapData }
  /** DEBIT went out and no answer came back: whether the card paid is known only when it comes back. */
  | { type: 'torn'; purse: PurseTapData; detail: string };

/** GET TRANSACTION PROVE found the purchase on the card: its MAC2 and TAC. */
export interface Proof {
  mac2: Uint8Array;
  tac: Uint8Array;
}

const SW_MAC_ERROR = 0x9302;
const SW_INSUFFICIENT = 0x9401;
const PROVE_TYPE_CAPP = CAPP_PURCHASE;

/**
 * A T-Union card in the field, read, with the purse commands the gate runs on
 * it (JT/T 978 / PBOC electronic purse, as CARDS.md §2): the purchase with the
 * PSAM (INITIALIZE FOR CAPP PURCHASE, MAC1, UPDATE CAPP DATA CACHE, DEBIT
 * FOR CAPP PURCHASE, MAC2), and GET TRANSACTION PROVE for a purchase torn
 * before.
 */
export class TunionSession {
  constructor(
    private readonly channel: CardChannel,
    private readonly timeoutMs: number,
    private readonly settings: TunionSettings,
    readonly card: TunionCard,
  ) {}

  /** Purse data of this card with no transaction yet. */
  purseData(trip: PurseTapData['trip'], state: PurseTapData['state'] = 'none'): PurseTapData {
    const { issuer, balance } = this.card;
    return { aid: Buffer.from(TUNION_AID).toString('hex').toUpperCase(), card: issuer.cardNumber, issuerId: issuer.issuerId, cardType: issuer.cardType, balance, state, trip, transaction: null, settles: null };
  }

  /**
   * Whether the card's last purchase is the one with offline ATC `atc` (its
   * MAC2 and TAC), by GET TRANSACTION PROVE (`80 5A 00 09 02`, the ATC after
   * it: the card counts the purchase). Undefined when the card has no such
   * proof: never paid, or another transaction since.
   */
  async prove(atc: number): Promise<Proof | undefined> {
    const answer = await exchange(this.channel, Uint8Array.of(0x80, 0x5a, 0x00, PROVE_TYPE_CAPP, 0x02, ...u16((atc + 1) & 0xffff), 0x08), this.timeoutMs, 'GET TRANSACTION PROVE');
    if (answer.sw !== SW_OK || answer.data.length !== 8) return undefined;
    return { mac2: answer.data.slice(0, 4), tac: answer.data.slice(4, 8) };
  }

  /**
   * The newest record of the card's trip log (file 1E), which the card's last
   * purchase wrote: the proof of GET TRANSACTION PROVE names a counter value,
   * and only this record says whose purchase used it.
   */
  async lastLog(): Promise<LogRecord | undefined> {
    const answer = await exchange(this.channel, Uint8Array.of(0x00, 0xb2, 0x01, (SFI_LOG << 3) | 0x04, LOG_LENGTH), this.timeoutMs, 'READ RECORD 1E');
    return answer.sw === SW_OK ? parseLogRecord(answer.data) : undefined;
  }

  /** The card's offline ATC now, from an INITIALIZE with no amount that is never followed by a DEBIT. */
  async currentAtc(terminalId: Uint8Array): Promise<number> {
    return (await this.initialize(0, terminalId)).atc;
  }

  async purchase(plan: PurchasePlan, psam: Psam, hooks: PurchaseHooks, nowMs: number, timeZone: string): Promise<PurchaseResult> {
    const base: PurseTapData = { ...this.purseData(plan.trip), ...(plan.entry ? { entry: plan.entry } : {}), settles: plan.settles ?? null };
    const terminalId = psam.terminalId();
    if (!terminalId) return refused(new Refusal('psam-unavailable', psam.unavailable() ?? 'no PSAM'), base);
    try {
      const init = await this.initialize(plan.amount, terminalId);
      if (init.balance < plan.amount) refuse('insufficient-balance', `the card holds ${init.balance} fen; the fare is ${plan.amount}`);
      const algorithm = purseAlgorithm(init.algorithmId);
      if (!algorithm) refuse('card-not-supported', `the card's purse algorithm id ${init.algorithmId} is neither 3DES (00) nor SM4 (04)`);
      if (algorithm === 'sm4' && !SM4_AVAILABLE) refuse('card-not-supported', "the card's purse uses SM4 and this system's OpenSSL has no SM4");
      const dateTime = purseDateTime(nowMs, timeZone);
      const { issuer } = this.card;
      const mac1 = await psam.mac1({ random: init.random, atc: init.atc, amount: plan.amount, type: CAPP_PURCHASE, dateTime, keyVersion: init.keyVersion, algorithmId: algorithmId(algorithm), serial: issuer.serial, issuerCode: issuer.issuerCode });
      const transaction: PurseTransaction = {
        amount: plan.amount,
        atc: init.atc,
        balanceBefore: init.balance,
        balanceAfter: null,
        terminalId: hex(mac1.terminalId),
        terminalSerial: hex(mac1.terminalSerial),
        dateTime: localDigits(nowMs, timeZone),
        type: CAPP_PURCHASE,
        algorithm,
        keyVersion: init.keyVersion,
        tac: null,
        mac2Verified: false,
      };
      const after = init.balance - plan.amount;
      if (plan.metro) {
        const record = buildMetroRecord({ ...plan.metro, terminal: hex(mac1.terminalId), dateTime, amount: plan.amount });
        await this.update(Uint8Array.of(0x80, 0xdc, METRO_RECORD, SFI_TRIP << 3, TRIP_LENGTH, ...record), 'UPDATE CAPP DATA CACHE 1A');
      }
      const log = buildLogRecord({ ...plan.log, terminal: mac1.terminalId, amount: plan.amount, balanceAfter: after, dateTime, city: this.settings.city });
      await this.update(Uint8Array.of(0x80, 0xdc, 0x00, SFI_LOG << 3, LOG_LENGTH, ...log), 'UPDATE CAPP DATA CACHE 1E');
      const pending: PurseTapData = { ...base, state: 'pending', transaction };
      // From here the card may pay without the gate hearing of it: the pending tap is on disk first.
      hooks.intend(pending);
      const debit = await this.debit(mac1.terminalSerial, dateTime, mac1.mac1);
      if (debit.type === 'torn') return { type: 'torn', purse: pending, detail: debit.detail };
      if (debit.type === 'declined') return { type: 'refused', refusal: debit.refusal, purse: { ...base, transaction } };
      const paid: PurseTransaction = { ...transaction, balanceAfter: after, tac: hex(debit.tac) };
      let verified: boolean;
      try {
        verified = await psam.verifyMac2(debit.mac2);
      } catch {
        // The card has paid: a PSAM failing at this moment costs the MAC2 check, not the passenger's trip; clearing checks the TAC.
        return { type: 'paid', purse: { ...base, state: 'debited', transaction: paid } };
      }
      if (!verified) return { type: 'refused', refusal: new Refusal('card-auth-failed', 'the PSAM rejected the MAC2 the card gave for its debit: not a genuine card'), purse: { ...base, state: 'none', transaction: paid } };
      return { type: 'paid', purse: { ...base, state: 'debited', transaction: { ...paid, mac2Verified: true } } };
    } catch (error) {
      if (error instanceof Refusal) return refused(error, base);
      throw error;
    }
  }

  private async initialize(amount: number, terminalId: Uint8Array): Promise<{ balance: number; atc: number; keyVersion: number; algorithmId: number; random: Uint8Array }> {
    const answer = await exchange(this.channel, Uint8Array.of(0x80, 0x50, 0x03, 0x02, 0x0b, this.settings.keyIndex, ...u32(amount), ...terminalId, 0x0f), this.timeoutMs, 'INITIALIZE FOR CAPP PURCHASE');
    if (answer.sw === SW_INSUFFICIENT) refuse('insufficient-balance', `INITIALIZE FOR CAPP PURCHASE answered 9401: the card holds less than ${amount} fen`);
    if (answer.sw !== SW_OK || answer.data.length !== 15) refuse('card-not-supported', `INITIALIZE FOR CAPP PURCHASE answered ${swText(answer.sw)} with ${answer.data.length} bytes`);
    const b = Buffer.from(answer.data);
    return { balance: b.readUInt32BE(0), atc: b.readUInt16BE(4), keyVersion: b[9]!, algorithmId: b[10]!, random: answer.data.slice(11, 15) };
  }

  private async update(apdu: Uint8Array, what: string): Promise<void> {
    const answer = await exchange(this.channel, apdu, this.timeoutMs, what);
    if (answer.sw !== SW_OK) refuse('card-not-supported', `${what} answered ${swText(answer.sw)}`);
  }

  /** DEBIT FOR CAPP PURCHASE: any failure to hear the card's answer is a tear, not a refusal. */
  private async debit(terminalSerial: Uint8Array, dateTime: Uint8Array, mac1: Uint8Array): Promise<{ type: 'paid'; tac: Uint8Array; mac2: Uint8Array } | { type: 'declined'; refusal: Refusal } | { type: 'torn'; detail: string }> {
    let answer: { data: Uint8Array; sw: number };
    try {
      answer = await exchange(this.channel, Uint8Array.of(0x80, 0x54, 0x01, 0x00, 0x0f, ...terminalSerial, ...dateTime, ...mac1, 0x08), this.timeoutMs, 'DEBIT FOR CAPP PURCHASE');
    } catch (error) {
      if (error instanceof Refusal) return { type: 'torn', detail: error.detail };
      throw error;
    }
    if (answer.sw === SW_MAC_ERROR) return { type: 'declined', refusal: new Refusal('card-auth-failed', "the card rejected MAC1 (9302): the PSAM's purchase key is not this card's") };
    if (answer.sw !== SW_OK) return { type: 'declined', refusal: new Refusal('card-not-supported', `DEBIT FOR CAPP PURCHASE answered ${swText(answer.sw)}`) };
    // A card that says it paid but whose answer is cut short has paid all the same: pending until it is seen again.
    if (answer.data.length !== 8) return { type: 'torn', detail: `DEBIT FOR CAPP PURCHASE answered 9000 with ${answer.data.length} bytes, not TAC and MAC2` };
    return { type: 'paid', tac: answer.data.slice(0, 4), mac2: answer.data.slice(4, 8) };
  }
}

function refused(refusal: Refusal, purse: PurseTapData): PurchaseResult {
  return { type: 'refused', refusal, purse };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}
