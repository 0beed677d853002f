import { readFileSync, writeFileSync } from 'node:fs';
import { bankCardImageSchema, type BankCardImage } from './bankCardImage.js';
import { VirtualBankCard } from './virtualBankCard.js';

/** Writes a personalised card as JSON (it holds the card's private key: test cards only). */
export function saveBankCard(image: BankCardImage, path: string): void {
  writeFileSync(path, `${JSON.stringify(image, null, 2)}\n`, { mode: 0o600 });
}

/** The card a file written by saveBankCard (or `citygate issuer bankcard`) holds, ready to answer APDUs. */
export function loadBankCard(file: string): VirtualBankCard {
  try {
    return new VirtualBankCard(bankCardImageSchema.parse(JSON.parse(readFileSync(file, 'utf8'))));
  } catch (error) {
    throw new Error(`${file}: not a bank card image (${(error as Error).message})`);
  }
}
