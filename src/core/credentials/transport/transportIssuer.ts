import type { Category } from '../credential.js';

/**
 * The issuer the gate names for every transport QR code, whichever platform
 * issued it: the account numbers are nationally unique card numbers (JT/T
 * 978), so the fleet deny-lists them under this one issuer, as for bank cards.
 */
export const TRANSPORT_ISSUER = 'transport';

/**
 * The holder category of an account type (卡账户类型, JT/T 978.3 as the open
 * reader lists them): 02 student, 03 senior; 00/01 ordinary, 04 test and 05
 * military cards, and any other type, pay as adults (citygate has no military
 * category; the operator's fare table decides the rest).
 */
export function categoryOfAccountType(accountType: number): Category {
  if (accountType === 0x02) return 'student';
  if (accountType === 0x03) return 'senior';
  return 'adult';
}
