import { randomBytes } from 'node:crypto';
import type { CardChannel } from '../../../hal/cardReader.js';
import { asIdentified, Refusal, refuse, type CardTrace } from '../reasons.js';
import { DEFAULT_TIMEZONE } from '../settings.js';
import { Sm2PublicKey } from '../crypto/sm2.js';
import { exchange, selectAid, SW_FILE_NOT_FOUND, SW_OK, swText } from './apdu.js';
import type { CardApplication, CardCheck } from './cardApplication.js';
import type { Credential, EmvTapData } from './credential.js';
import { compareDates, dateText, type CardDate } from './emv/cardDate.js';
import { CardData, parseAfl, readGpoResponse, readRecords } from './emv/cardRecords.js';
import { cardToken, panDigits, panFromTrack2, psnDigits } from './emv/cardToken.js';
import { maskPan } from './emv/pan.js';
import type { CaKeyStore } from './emv/capk.js';
import { OfflineAuthenticator } from './emv/offlineAuth.js';
import type { RevocationList } from './emv/revocationList.js';
import { fillDol, terminalData, type TerminalData } from './emv/terminalData.js';
import { findTag, parseTlv } from './emv/tlv.js';

/** UnionPay's RID, and its QuickPass applications: A000000333 01 01 xx (debit, credit, quasi-credit, e-cash, ...). */
export const UNIONPAY_RID = 'A000000333';
const QUICKPASS_AID_PREFIX = Uint8Array.from([0xa0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01]);

/** The subject of every bank card: tokens of PANs share one namespace, whatever the scheme. */
export const EMV_ISSUER = 'emv';

/** The card's data the back office needs to claim the fare (CARDS.md §1), then the gate's. */
const CLAIM_CARD_TAGS = [0x9f26, 0x9f27, 0x9f10, 0x82, 0x9f36] as const;
const CLAIM_GATE_TAGS = [0x95, 0x9f37, 0x9f02, 0x5f2a, 0x9a, 0x9c] as const;
/** Cryptogram information data: an application authentication cryptogram is the card declining. */
const CID_AAC = 0x00;

export interface BankCardKeys {
  /** The schemes' CA public keys (DESIGN.md §5). */
  capk: CaKeyStore;
  /** The fleet's token key; absent (`card read` without one): tokens under a key nobody keeps. */
  tokenKey: Uint8Array | undefined;
  revocations?: RevocationList;
}

/**
 * UnionPay QuickPass (qPBOC) taken offline, as metro and bus gates take it:
 * GET PROCESSING OPTIONS with the gate's transit data, the records the AFL
 * names, then fDDA (RSA or SM2) proves the card genuine; the back office
 * claims the fare later with the data kept on the tap.
 */
export class QpbocApplication implements CardApplication {
  readonly name = 'qpboc';
  readonly viaPpse = true;
  private readonly auth: OfflineAuthenticator;
  private readonly tokenKey: Uint8Array;

  constructor(keys: BankCardKeys) {
    this.auth = new OfflineAuthenticator(keys.capk, keys.revocations);
    this.tokenKey = keys.tokenKey ?? randomBytes(32);
    // SM2 CA keys get their tables now, at start, not on the first passenger's tap (about 0.1 s a key here, more on a Pi).
    for (const ca of keys.capk.keys()) if (ca.sm2PublicKey) Sm2PublicKey.fixed(ca.sm2PublicKey);
  }

  setRevocations(list: RevocationList): void {
    this.auth.setRevocations(list);
  }

  matches(aid: Uint8Array): boolean {
    return aid.length >= QUICKPASS_AID_PREFIX.length && QUICKPASS_AID_PREFIX.every((b, i) => aid[i] === b);
  }

  async read(channel: CardChannel, check: CardCheck, aid: Uint8Array = QUICKPASS_AID_PREFIX): Promise<Credential | undefined> {
    const timeout = check.apduTimeoutMs;
    const aidHex = hex(aid);
    const select = await exchange(channel, selectAid(aid), timeout, `SELECT ${aidHex}`);
    if (select.sw === SW_FILE_NOT_FOUND) return undefined;
    if (select.sw !== SW_OK) refuse('card-not-supported', `SELECT ${aidHex} answered ${swText(select.sw)}`);

    const terminal = terminalData(check.amountFen ?? 0, check.nowMs, check.timezone ?? DEFAULT_TIMEZONE);
    const pdol = findTag(parseTlv(select.data, `SELECT ${aidHex}`), 0x9f38)?.value;
    const pdolData = pdol ? fillDol(pdol, terminal, 'PDOL (9F38)') : new Uint8Array(0);
    const gpo = await exchange(channel, Uint8Array.from([0x80, 0xa8, 0x00, 0x00, pdolData.length + 2, 0x83, pdolData.length, ...pdolData, 0x00]), timeout, 'GET PROCESSING OPTIONS');
    if (gpo.sw !== SW_OK) refuse('card-not-supported', `GET PROCESSING OPTIONS answered ${swText(gpo.sw)}: the card takes no offline contactless payment here`);

    const card = new CardData();
    readGpoResponse(gpo.data, card);
    await readRecords(channel, parseAfl(card.need(0x94, 'application file locator')), timeout, card);

    const pan = card.get(0x5a) ? panDigits(card.get(0x5a)!, 'PAN (5A)') : panFromTrack2(card.need(0x57, 'PAN'));
    const psn = psnDigits(card.get(0x5f34));
    const expiry = cardDate(card.need(0x5f24, 'application expiry date'), '5F24');
    const effective = card.get(0x5f25) ? cardDate(card.get(0x5f25)!, '5F25') : undefined;
    const subject = cardToken(this.tokenKey, pan, psn);
    const trace = { kind: 'emv' as const, application: aidHex, pan: maskPan(pan), expiry: dateText(expiry) };

    const { oda, atc } = withTrace(trace, () => this.auth.authenticate(card, UNIONPAY_RID, pan, terminal));
    const identity = { issuer: EMV_ISSUER, subject, category: 'adult' };
    withTrace(trace, () =>
      asIdentified(identity, () => {
        checkDates(expiry, effective, terminal.today);
        if (card.get(0x9f27)?.[0] === CID_AAC) refuse('card-auth-failed', 'the card declined the transaction (cryptogram AAC)');
      }),
    );
    return {
      kind: 'emv',
      profile: 'emv',
      issuer: EMV_ISSUER,
      subject,
      category: 'adult',
      product: undefined,
      cti: undefined,
      replay: undefined,
      emv: claimData(aidHex, pan, psn, expiry, atc, oda, card, terminal),
    };
  }
}

/** A refusal once the PAN is read carries the masked PAN and expiry, for the technician's `card read`. */
function withTrace<T>(trace: CardTrace, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof Refusal) error.card ??= trace;
    throw error;
  }
}

function checkDates(expiry: CardDate, effective: CardDate | undefined, today: CardDate): void {
  if (compareDates(today, expiry) > 0) refuse('expired', `the card expired on ${dateText(expiry)}`);
  if (effective && compareDates(today, effective) < 0) refuse('not-yet-valid', `the card is valid from ${dateText(effective)}`);
}

function claimData(aid: string, pan: string, psn: string, expiry: CardDate, atc: number, oda: 'rsa' | 'sm2', card: CardData, terminal: TerminalData): EmvTapData {
  const data: Record<string, string> = {};
  for (const tag of CLAIM_CARD_TAGS) {
    const value = card.get(tag);
    if (value) data[tagHex(tag)] = hex(value);
  }
  for (const tag of CLAIM_GATE_TAGS) data[tagHex(tag)] = hex(terminal.values.get(tag)!);
  return { aid, pan: maskPan(pan), psn, expiry: dateText(expiry), atc, oda, data };
}

/** YYMMDD (n6 BCD); EMV reads YY below 50 as 20YY. */
function cardDate(value: Uint8Array, tag: string): CardDate {
  const text = Buffer.from(value).toString('hex');
  const match = value.length === 3 ? /^(\d{2})(\d{2})(\d{2})$/.exec(text) : null;
  const year = match ? Number(match[1]) : Number.NaN;
  const date = { year: year < 50 ? 2000 + year : 1900 + year, month: Number(match?.[2]), day: Number(match?.[3]) };
  if (!match || date.month < 1 || date.month > 12 || date.day < 1 || date.day > 31) refuse('malformed', `date ${tag} is not YYMMDD`);
  return date;
}


function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

function tagHex(tag: number): string {
  return tag.toString(16).toUpperCase();
}
