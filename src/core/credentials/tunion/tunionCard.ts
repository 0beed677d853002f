import type { CardChannel } from '../../../../hal/cardReader.js';
import { Refusal, refuse } from '../../reasons.js';
import { DEFAULT_TIMEZONE } from '../../settings.js';
import { exchange, selectAid, SW_FILE_NOT_FOUND, SW_OK, swText } from '../apdu.js';
import type { CardApplication, CardCheck } from '../cardApplication.js';
import type { Category, Credential } from '../credential.js';
import { localDigits } from './purseTime.js';
import { TunionSession } from './tunionSession.js';
import type { TunionSettings } from './tunionSettings.js';
import { ISSUER_LENGTH, METRO_RECORD, parseIssuerData, parseMetroRecord, SFI_ISSUER, SFI_TRIP, TRIP_LENGTH, TUNION_AID } from './tunionFiles.js';

/** Every T-Union card's subject is its card number under this issuer: deny lists name it so. */
export const TUNION_ISSUER = 'tunion';

const GET_BALANCE = Uint8Array.from([0x80, 0x5c, 0x00, 0x02, 0x04]);
const SW_RECORD_NOT_FOUND = 0x6a83;

export const DEFAULT_TUNION_SETTINGS: TunionSettings = { cardTypes: {}, defaultCategory: 'adult', keyIndex: 1, city: '0000', pendingWindowMin: 10, metro: undefined };

/**
 * The T-Union transport purse (JT/T 978, CARDS.md §2), selected by its AID:
 * file 15 (issuer, card number, dates, type), the balance and this gate's
 * metro record in file 1A. Reading proves nothing (the card is authenticated
 * by its MAC2 during the purchase, through the PSAM); the credential carries
 * the live session the gate's purchase runs on.
 */
export class TunionApplication implements CardApplication {
  readonly name = 'tunion';
  readonly viaPpse = false;

  constructor(private readonly settings: TunionSettings = DEFAULT_TUNION_SETTINGS) {}

  matches(aid: Uint8Array): boolean {
    return aid.length === TUNION_AID.length && aid.every((b, i) => b === TUNION_AID[i]);
  }

  async read(channel: CardChannel, check: CardCheck): Promise<Credential | undefined> {
    const timeout = check.apduTimeoutMs;
    const select = await exchange(channel, selectAid(TUNION_AID), timeout, 'SELECT T-Union');
    if (select.sw === SW_FILE_NOT_FOUND) return undefined;
    if (select.sw !== SW_OK) refuse('card-not-supported', `SELECT T-Union answered ${swText(select.sw)}`);
    const file15 = await exchange(channel, Uint8Array.of(0x00, 0xb0, 0x80 | SFI_ISSUER, 0x00, ISSUER_LENGTH), timeout, 'READ BINARY file 15');
    if (file15.sw !== SW_OK) refuse('card-not-supported', `READ BINARY file 15 answered ${swText(file15.sw)}`);
    const issuer = parseIssuerData(file15.data);
    const category = this.categoryOf(issuer.cardType);
    const identity = { kind: 'tunion' as const, application: Buffer.from(TUNION_AID).toString('hex').toUpperCase(), expiry: `${issuer.validUntil.slice(0, 4)}-${issuer.validUntil.slice(4, 6)}-${issuer.validUntil.slice(6, 8)}` };
    const who = { issuer: TUNION_ISSUER, subject: issuer.cardNumber, category };
    const balance = await exchange(channel, GET_BALANCE, timeout, 'GET BALANCE');
    if (balance.sw !== SW_OK || balance.data.length !== 4) refuse('card-not-supported', `GET BALANCE answered ${swText(balance.sw)} with ${balance.data.length} bytes`);
    const trip = await exchange(channel, Uint8Array.of(0x00, 0xb2, METRO_RECORD, (SFI_TRIP << 3) | 0x04, TRIP_LENGTH), timeout, 'READ RECORD 1A');
    if (trip.sw !== SW_OK && trip.sw !== SW_RECORD_NOT_FOUND) refuse('card-not-supported', `READ RECORD 1A answered ${swText(trip.sw)}`);
    const metro = trip.sw === SW_OK ? parseMetroRecord(trip.data) : { record: undefined };
    const today = localDigits(check.nowMs, check.timezone ?? DEFAULT_TIMEZONE).slice(0, 8);
    const session = new TunionSession(channel, timeout, this.settings, { issuer, balance: Buffer.from(balance.data).readUInt32BE(0), metro: metro.record, metroProblem: metro.problem });
    withCard(identity, who, () => {
      if (today > issuer.validUntil) refuse('expired', `the card expired on ${identity.expiry}`);
      if (today < issuer.validFrom) refuse('not-yet-valid', `the card is valid from ${issuer.validFrom}`);
    });
    return { kind: 'tunion', profile: 'tunion', issuer: TUNION_ISSUER, subject: issuer.cardNumber, category, product: undefined, cti: undefined, replay: undefined, tunion: session };
  }

  private categoryOf(cardType: string): Category {
    return this.settings.cardTypes[cardType] ?? this.settings.defaultCategory;
  }
}

/** A refusal once the card number is read names the card (for `card read`) and its holder (for the journal). */
function withCard(trace: { kind: 'tunion'; application: string; expiry: string }, identity: { issuer: string; subject: string; category: string }, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof Refusal) {
      error.card ??= trace;
      error.identity ??= identity;
    }
    throw error;
  }
}
