import { createHmac } from 'node:crypto';
import type { BankCardImage } from './bankCardImage.js';
import { dolValues, type DolEntry } from './dol.js';
import type { EmvKey } from './emvKey.js';
import { fddaTerminalData, signedDynamicData } from './fdda.js';
import { hex, tlv } from './tlvEncoder.js';

/** Cryptogram information data: a TC, approved offline (the transit gate's deferred-online ODA). */
const CID_TC = '40';

/**
 * The qPBOC answer to GET PROCESSING OPTIONS, response format 2 (`77`): the
 * card's static GPO data, this transaction's ATC, a cryptogram and the fDDA
 * signature `9F4B` over the terminal's data.
 */
export function processingOptions(image: BankCardImage, iccKey: EmvKey, pdol: readonly DolEntry[], pdolData: Uint8Array, atc: Buffer): Buffer {
  const cardAuthData = image.cardAuthData === undefined ? undefined : hex(image.cardAuthData);
  const sdad = signedDynamicData(iccKey, atc, fddaTerminalData(dolValues(pdol, pdolData), cardAuthData));
  const cryptogram = createHmac('sha256', hex(image.acKey)).update(pdolData).update(atc).digest().subarray(0, 8);
  return tlv(
    '77',
    tlv('82', hex(image.gpo.aip)),
    tlv('94', hex(image.gpo.afl)),
    tlv('9F36', atc),
    tlv('9F26', cryptogram),
    tlv('9F27', hex(CID_TC)),
    tlv('9F10', hex(image.gpo.iad)),
    tlv('57', hex(image.track2)),
    tlv('5F34', hex(image.psn)),
    tlv('9F4B', sdad),
    tlv('9F6C', hex(image.ctq)),
    tlv('9F5D', hex(image.offlineSpending)),
  );
}
