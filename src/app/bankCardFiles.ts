import { CaKeyStore, CapkError } from '../core/credentials/emv/capk.js';
import { TOKEN_KEY_BYTES } from '../core/credentials/emv/cardToken.js';
import type { BankCardKeys } from '../core/credentials/qpbocCard.js';
import { readInputJson, readInputText } from './inputFile.js';
import { InputError } from './settingsSchema.js';

/** The schemes' CA public keys (DESIGN.md §5); every checksum is checked here, at start. */
export function loadCapkFile(path: string): CaKeyStore {
  try {
    return CaKeyStore.parse(readInputJson(path, 'CA public keys'), path);
  } catch (error) {
    if (error instanceof CapkError) throw new InputError(error.message);
    throw error;
  }
}

/** The fleet's token key: 32 bytes as 64 hex digits (whitespace around them is forgiven). */
export function loadTokenKey(path: string): Uint8Array {
  const text = readInputText(path, 'card token key').trim();
  if (!new RegExp(`^[0-9a-fA-F]{${TOKEN_KEY_BYTES * 2}}$`).test(text)) throw new InputError(`${path}: a card token key is ${TOKEN_KEY_BYTES * 2} hex digits (got ${text.length} characters)`);
  return Buffer.from(text, 'hex');
}

/** What bank cards need, from the config's paths; undefined where the gate takes no bank card. */
export function loadBankCardKeys(paths: { capk?: string | undefined; tokenKey?: string | undefined }): BankCardKeys | undefined {
  if (paths.capk === undefined) return undefined;
  return { capk: loadCapkFile(paths.capk), tokenKey: paths.tokenKey === undefined ? undefined : loadTokenKey(paths.tokenKey) };
}
