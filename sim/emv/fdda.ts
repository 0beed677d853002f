import { createHash } from 'node:crypto';
import type { EmvKey } from './emvKey.js';
import { rsaSignBlock } from './rsaKeys.js';
import { sm2Sign } from './sm2Signer.js';
import { hex } from './tlvEncoder.js';

/*
 * The signed dynamic application data `9F4B` a qPBOC card returns in its GPO
 * answer (fDDA, JR/T 0025.12 Annex B). The ICC dynamic data is
 * 02 | ATC: the ICC dynamic number is the ATC, as proxmark3's
 * emv_pki_recover_atc_ex reads it.
 *   RSA (EMV Book 2 §6.5, format 05): 6A 05 01 | 03 | 02 ATC | BB.. | SHA-1 | BC,
 *     the hash over 05 .. the last BB || the terminal's data.
 *   SM2: 15 | 03 | 02 ATC | r || s, signed over 15 | 03 | 02 ATC || the terminal's data.
 * The terminal's data is 9F37 for fDDA version 00, and 9F37 || 9F02 || 5F2A ||
 * 9F69 for version 01 (guolong EmvDAuth.c iEmvFdda; proxmark3 emv_pki.c; for
 * SM2 a public PBOC test script's validate_SDAD_for_fDDA_SM does the same).
 */

/** fDDA 01 when the card's card authentication related data `9F69` says so in its first byte. */
function fddaVersion(cardAuthData: Buffer | undefined): '00' | '01' {
  return cardAuthData?.[0] === 0x01 ? '01' : '00';
}

/** The terminal's part of the signed data, from the PDOL values the terminal sent (by tag). */
export function fddaTerminalData(pdolValues: Map<string, Buffer>, cardAuthData: Buffer | undefined): Buffer {
  const value = (tag: string): Buffer => {
    const found = pdolValues.get(tag);
    if (!found) throw new Error(`fDDA needs ${tag} in the PDOL`);
    return found;
  };
  if (fddaVersion(cardAuthData) === '00') return value('9F37');
  return Buffer.concat([value('9F37'), value('9F02'), value('5F2A'), cardAuthData!]);
}

/** `9F4B` for this ATC (2 bytes) and the terminal's data. */
export function signedDynamicData(icc: EmvKey, atc: Buffer, terminalData: Buffer): Buffer {
  const dynamicData = Buffer.concat([hex('02'), atc]);
  if (icc.algorithm === 'SM2') {
    const signed = Buffer.concat([hex('15'), Buffer.from([dynamicData.length]), dynamicData]);
    return Buffer.concat([signed, sm2Sign(icc.key, Buffer.concat([signed, terminalData]))]);
  }
  // The length from the key's details: exporting the modulus (a JWK) for every signature was needless work in each tap.
  const size = icc.key.asymmetricKeyDetails!.modulusLength! / 8;
  const body = Buffer.concat([hex('0501'), Buffer.from([dynamicData.length]), dynamicData]);
  const padded = Buffer.concat([body, Buffer.alloc(size - body.length - 22, 0xbb)]);
  const hash = createHash('sha1').update(padded).update(terminalData).digest();
  return rsaSignBlock(icc.key, Buffer.concat([hex('6A'), padded, hash, hex('BC')]));
}
