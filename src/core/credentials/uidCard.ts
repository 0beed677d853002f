import type { CardChannel } from '../../../hal/cardReader.js';
import { refuse } from '../reasons.js';
import { exchange, SW_OK, swText } from './apdu.js';
import type { CardApplication, CardCheck } from './cardApplication.js';
import type { Credential } from './credential.js';

/** PC/SC GET DATA for the card's UID (PC/SC part 3): the reader answers it, not the chip. */
export const GET_UID = Uint8Array.from([0xff, 0xca, 0x00, 0x00, 0x00]);

/** ISO 14443-3 UIDs: single, double and triple size. */
const UID_LENGTHS = [4, 7, 10];

/**
 * The issuer of every UID credential. A UID is not signed by anyone: this name
 * only says where the subject came from, so that the deny list and the
 * allow-list can name a UID like any other subject.
 */
export const UID_ISSUER = 'uid';

/** Reads the UID of the card on `channel`: upper-case hex. Any other answer is `card-not-supported`. */
export async function readUid(channel: CardChannel, timeoutMs: number): Promise<string> {
  const answer = await exchange(channel, GET_UID, timeoutMs, 'GET DATA (UID)');
  if (answer.sw !== SW_OK) refuse('card-not-supported', `GET DATA (UID) answered ${swText(answer.sw)}`);
  if (!UID_LENGTHS.includes(answer.data.length)) {
    refuse('card-not-supported', `GET DATA (UID) returned ${answer.data.length} bytes; a UID has ${UID_LENGTHS.join(', ')}`);
  }
  return Buffer.from(answer.data).toString('hex').toUpperCase();
}

/**
 * A UID card's credential: it proves nothing about its holder (any UID can be
 * copied or emulated), so only an access gate's allow-list gives it meaning.
 * Its holders are `staff`: UID cards are the staff and resident badges of
 * access control. No replay key: like a card, it is presented again and again.
 */
export function uidCredential(uid: string): Credential {
  return { kind: 'uid', profile: 'uid', issuer: UID_ISSUER, subject: uid, category: 'staff', product: undefined, cti: undefined, replay: undefined };
}

/** The last resort of an access gate that allows UID badges: any card is known by its UID. */
export class UidApplication implements CardApplication {
  readonly name = 'uid';
  readonly viaPpse = false;

  matches(): boolean {
    return false;
  }

  async read(channel: CardChannel, check: CardCheck): Promise<Credential> {
    return uidCredential(await readUid(channel, check.apduTimeoutMs));
  }
}
