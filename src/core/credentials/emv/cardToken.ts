import { createHmac } from 'node:crypto';
import { refuse } from '../../reasons.js';
import { cnDigits } from './pan.js';

/** Length of the token key the fleet provisions (bytes). */
export const TOKEN_KEY_BYTES = 32;

/**
 * The subject of a bank card everywhere the gate writes one (journal, log,
 * upload, deny list): HMAC-SHA256 under the fleet's token key of
 * `PAN:PSN`, first 16 bytes in hex. The fleet, holding the same key,
 * computes the same token for its deny list; nobody without it learns the PAN.
 */
export function cardToken(key: Uint8Array, pan: string, psn: string): string {
  return createHmac('sha256', key).update(`${pan}:${psn}`).digest().subarray(0, 16).toString('hex');
}

/** The digits of a PAN in `5A` (cn, padded with F): 12 to 19 digits, the lengths bank cards use. */
export function panDigits(value: Uint8Array, what: string): string {
  const text = cnDigits(value);
  if (text === undefined || !/^\d{12,19}$/.test(text)) refuse('malformed', `${what} is not a PAN of 12 to 19 digits`);
  return text;
}

/** The PAN from track 2 equivalent data `57` (PAN, separator D, ...), for cards that give no `5A`. */
export function panFromTrack2(value: Uint8Array): string {
  const text = Buffer.from(value).toString('hex').toUpperCase();
  const separator = text.indexOf('D');
  if (separator < 12 || separator > 19 || !/^\d+$/.test(text.slice(0, separator))) refuse('malformed', 'track 2 equivalent data (57) holds no PAN');
  return text.slice(0, separator);
}

/** PAN sequence number `5F34` (n2); a card without one is 00. */
export function psnDigits(value: Uint8Array | undefined): string {
  if (value === undefined) return '00';
  const text = Buffer.from(value).toString('hex');
  if (value.length !== 1 || !/^\d{2}$/.test(text)) refuse('malformed', 'PAN sequence number (5F34) is not n2');
  return text;
}
