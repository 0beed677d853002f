import { randomBytes } from 'node:crypto';
import { mac1Data, mac2Data, purchaseSessionKey, purseMac, sameBytes, tacData, tacKey, u16, u32, type PurseAlgorithm, algorithmId } from '../../src/core/credentials/tunion/purseCrypto.js';
import { CAPP_PURCHASE, LOG_LENGTH, SFI_ISSUER, SFI_LOG, SFI_TRIP, TRIP_LENGTH, TUNION_AID } from '../../src/core/credentials/tunion/tunionFiles.js';
import type { ApduResponder } from '../virtualCard.js';
import { cardKey, hexKey, TEST_KEY_VERSION, TEST_MASTER_KEYS } from './testKeys.js';

export interface TunionCardProfile {
  /** 20 digits: the application serial, the card number. */
  cardNumber: string;
  /** 16 hex digits; the first 8 are the issuer code keys are diversified by. */
  issuerId?: string;
  /** Two hex digits. */
  cardType?: string;
  validFrom?: string;
  validUntil?: string;
  balance: number;
  algorithm?: PurseAlgorithm;
  atc?: number;
  /** A copy of a card's public files with keys of its own: what a skimmer can make. */
  clone?: boolean;
}

/** One debit the card made: what the gate's journal and the back office must account for. */
export interface CardDebit {
  atc: number;
  amount: number;
  balanceAfter: number;
  tac: string;
}

const OK = [0x90, 0x00];
const LOG_SIZE = 10;

/**
 * A T-Union card (JT/T 978 purse, CARDS.md §2) answering APDUs: file 15,
 * GET BALANCE, records of files 1A and 1E, and the complex purchase:
 * INITIALIZE FOR CAPP PURCHASE, UPDATE CAPP DATA CACHE (records kept aside
 * until the debit), DEBIT FOR CAPP PURCHASE (MAC1 checked; balance, ATC,
 * the cached records, MAC2 and TAC in one step), GET TRANSACTION PROVE for
 * its last purchase. Power loss drops an unfinished purchase, never half of one.
 */
export class VirtualTunionCard implements ApduResponder {
  readonly atr = Uint8Array.from([0x3b, 0x8a, 0x80, 0x01, 0x54, 0x55, 0x4e, 0x49, 0x4f, 0x4e, 0x00, 0x00, 0x00, 0x00]);
  readonly algorithm: PurseAlgorithm;
  balance: number;
  atc: number;
  readonly debits: CardDebit[] = [];
  private readonly file15: Uint8Array;
  private readonly purchaseKey: Uint8Array;
  private readonly tacKey: Uint8Array;
  private readonly trip = new Map<number, Uint8Array>();
  private readonly log: Uint8Array[] = [];
  private selected = false;
  private purchase: { amount: number; random: Uint8Array; terminalId: Uint8Array; cache: { sfi: number; record: number; data: Uint8Array }[] } | undefined;
  private last: { atcAfter: number; mac2: Uint8Array; tac: Uint8Array } | undefined;

  constructor(readonly profile: TunionCardProfile) {
    this.algorithm = profile.algorithm ?? '3des';
    this.balance = profile.balance;
    this.atc = profile.atc ?? 0;
    const issuerId = hexKey(profile.issuerId ?? '3100000000000000');
    this.file15 = Uint8Array.from([...issuerId, 0x02, 0x01, ...hexKey(profile.cardNumber), ...hexKey(profile.validFrom ?? '20200101'), ...hexKey(profile.validUntil ?? '20401231'), ...hexKey(profile.cardType ?? '01'), 0x00]);
    const serial = this.file15.slice(12, 20);
    const masters = TEST_MASTER_KEYS[this.algorithm];
    this.purchaseKey = profile.clone ? randomBytes(16) : cardKey(this.algorithm, hexKey(masters.purchase), issuerId.slice(0, 4), serial);
    this.tacKey = profile.clone ? randomBytes(16) : cardKey(this.algorithm, hexKey(masters.tac), issuerId.slice(0, 4), serial);
  }

  get cardNumber(): string {
    return this.profile.cardNumber;
  }

  /** Power off and on: the application is deselected and an unfinished purchase is gone. */
  reset(): void {
    this.selected = false;
    this.purchase = undefined;
  }

  /** Record `n` (1 = newest) of the trip log, or a record of file 1A; undefined when there is none. */
  record(sfi: number, n: number): Uint8Array | undefined {
    return sfi === SFI_LOG ? this.log[n - 1] : this.trip.get(n);
  }

  respond(apdu: Uint8Array): Uint8Array {
    if (apdu.length < 4) return sw(0x67, 0x00);
    const [cla, ins, p1, p2] = apdu as unknown as [number, number, number, number];
    const data = apdu.subarray(5, 5 + (apdu[4] ?? 0));
    if (cla === 0x00 && ins === 0xa4) return this.select(data);
    if (!this.selected) return sw(0x69, 0x85);
    if (cla === 0x00 && ins === 0xb0) return p1 === (0x80 | SFI_ISSUER) ? ok(this.file15) : sw(0x6a, 0x82);
    if (cla === 0x00 && ins === 0xb2) return this.readRecord(p1, p2 >> 3);
    if (cla !== 0x80) return sw(0x6e, 0x00);
    switch (ins) {
      case 0x5c:
        return ok(u32(this.balance));
      case 0x50:
        return this.initialize(p1, p2, data);
      case 0xdc:
        return this.cache(p1, p2 >> 3, data);
      case 0x54:
        return this.debit(data);
      case 0x5a:
        return this.prove(p2, data);
      default:
        return sw(0x6d, 0x00);
    }
  }

  private select(aid: Uint8Array): Uint8Array {
    this.selected = aid.length === TUNION_AID.length && aid.every((b, i) => b === TUNION_AID[i]);
    this.purchase = undefined;
    return this.selected ? Uint8Array.from(OK) : sw(0x6a, 0x82);
  }

  private readRecord(n: number, sfi: number): Uint8Array {
    const record = this.record(sfi, n);
    return record ? ok(record) : sw(0x6a, 0x83);
  }

  private initialize(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x03 || p2 !== 0x02 || data.length !== 11) return sw(0x6a, 0x86);
    const amount = Buffer.from(data).readUInt32BE(1);
    if (amount > this.balance) {
      this.purchase = undefined;
      return sw(0x94, 0x01);
    }
    const random = randomBytes(4);
    this.purchase = { amount, random: new Uint8Array(random), terminalId: data.slice(5, 11), cache: [] };
    return ok(Uint8Array.from([...u32(this.balance), ...u16(this.atc), 0, 0, 0, TEST_KEY_VERSION, algorithmId(this.algorithm), ...random]));
  }

  private cache(record: number, sfi: number, data: Uint8Array): Uint8Array {
    if (!this.purchase) return sw(0x69, 0x01);
    if ((sfi === SFI_TRIP && data.length !== TRIP_LENGTH) || (sfi === SFI_LOG && data.length !== LOG_LENGTH) || (sfi !== SFI_TRIP && sfi !== SFI_LOG)) return sw(0x67, 0x00);
    this.purchase.cache.push({ sfi, record, data: data.slice() });
    return Uint8Array.from(OK);
  }

  private debit(data: Uint8Array): Uint8Array {
    const purchase = this.purchase;
    this.purchase = undefined;
    if (!purchase) return sw(0x69, 0x01);
    if (data.length !== 15) return sw(0x67, 0x00);
    const terminalSerial = data.slice(0, 4);
    const dateTime = data.slice(4, 11);
    const session = purchaseSessionKey(this.algorithm, this.purchaseKey, purchase.random, this.atc, terminalSerial);
    if (!sameBytes(purseMac(this.algorithm, session, mac1Data(purchase.amount, CAPP_PURCHASE, purchase.terminalId, dateTime)), data.slice(11, 15))) return sw(0x93, 0x02);
    // All at once, as the card's transaction mechanism does: balance, counter, records, proof.
    const atc = this.atc;
    this.balance -= purchase.amount;
    this.atc = (this.atc + 1) & 0xffff;
    for (const entry of purchase.cache) {
      if (entry.sfi === SFI_TRIP) this.trip.set(entry.record, entry.data);
      else this.log.unshift(entry.data);
    }
    this.log.splice(LOG_SIZE);
    const mac2 = purseMac(this.algorithm, session, mac2Data(purchase.amount));
    const tac = purseMac(this.algorithm, tacKey(this.algorithm, this.tacKey), tacData(purchase.amount, CAPP_PURCHASE, purchase.terminalId, terminalSerial, dateTime));
    this.last = { atcAfter: this.atc, mac2, tac };
    this.debits.push({ atc, amount: purchase.amount, balanceAfter: this.balance, tac: Buffer.from(tac).toString('hex').toUpperCase() });
    return ok(Uint8Array.from([...tac, ...mac2]));
  }

  private prove(type: number, data: Uint8Array): Uint8Array {
    const last = this.last;
    if (type !== CAPP_PURCHASE || data.length !== 2 || !last || Buffer.from(data).readUInt16BE(0) !== last.atcAfter) return sw(0x94, 0x06);
    return ok(Uint8Array.from([...last.mac2, ...last.tac]));
  }
}

function ok(data: Uint8Array): Uint8Array {
  return Uint8Array.from([...data, ...OK]);
}

function sw(sw1: number, sw2: number): Uint8Array {
  return Uint8Array.of(sw1, sw2);
}
