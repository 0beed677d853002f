import type { ApduResponder } from './virtualCard.js';

const SW_OK = [0x90, 0x00];
const SW_FILE_NOT_FOUND = [0x6a, 0x82];
const SW_INS_NOT_SUPPORTED = [0x6d, 0x00];
const SW_CLA_NOT_SUPPORTED = [0x6e, 0x00];
const SW_WRONG_P1P2 = [0x6b, 0x00];
const SW_WRONG_LENGTH = [0x67, 0x00];

/**
 * A UID-only card (a MIFARE Classic badge, say) as a PC/SC reader presents
 * it: no application to SELECT (6A82), and the reader's own GET DATA
 * pseudo-APDU `FF CA 00 00 Le` answers the UID. With Le = 0 the whole UID.
 */
export class UidCard implements ApduResponder {
  readonly atr = Uint8Array.from([0x3b, 0x8f, 0x80, 0x01, 0x80, 0x4f, 0x0c, 0xa0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x6a]);
  readonly uid: Uint8Array;

  constructor(uidHex: string) {
    if (!/^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$/.test(uidHex)) throw new Error(`a UID is 4, 7 or 10 bytes of hex, not ${uidHex}`);
    this.uid = Uint8Array.from(Buffer.from(uidHex, 'hex'));
  }

  reset(): void {}

  respond(apdu: Uint8Array): Uint8Array {
    if (apdu.length < 4) return Uint8Array.from(SW_WRONG_LENGTH);
    const [cla, ins, p1, p2] = apdu as unknown as [number, number, number, number];
    if (cla === 0x00 && ins === 0xa4) return Uint8Array.from(SW_FILE_NOT_FOUND);
    if (cla === 0xff && ins === 0xca) return this.getData(p1, p2, apdu.length > 4 ? apdu[4]! : 0);
    return Uint8Array.from(cla === 0xff || cla === 0x00 ? SW_INS_NOT_SUPPORTED : SW_CLA_NOT_SUPPORTED);
  }

  /** P1 = 00: the UID; anything else (historical bytes, ...) this card does not offer. */
  private getData(p1: number, p2: number, le: number): Uint8Array {
    if (p1 !== 0x00 || p2 !== 0x00) return Uint8Array.from(SW_WRONG_P1P2);
    if (le !== 0 && le < this.uid.length) return Uint8Array.from([0x6c, this.uid.length]);
    return Uint8Array.from([...this.uid, ...SW_OK]);
  }
}
