import { cardToken } from '../core/credentials/emv/cardToken.js';
import { loadTokenKey } from './bankCardFiles.js';
import { InputError } from './settingsSchema.js';

/** `citygate card token`: what fleet ops put on a deny list (issuer `emv`) to block one bank card. */
export function cardTokenCommand(options: { key: string; pan: string; psn: string }): string {
  if (!/^\d{12,19}$/.test(options.pan)) throw new InputError(`--pan: a card number is 12 to 19 digits (got ${options.pan.length} characters)`);
  if (!/^\d{2}$/.test(options.psn)) throw new InputError(`--psn: a PAN sequence number is two digits such as 01 (got ${JSON.stringify(options.psn)})`);
  return cardToken(loadTokenKey(options.key), options.pan, options.psn);
}
