import type { ApduResponder } from '../virtualCard.js';
import type { BankApplication, BankCardImage } from './bankCardImage.js';
import { dolDataLength, parseDol, type DolEntry } from './dol.js';
import { emvKeyFromJson, type EmvKey, type EmvKeyJson } from './emvKey.js';
import { applicationFci, PPSE_NAME, ppseFci } from './fci.js';
import { processingOptions } from './processingOptions.js';
import { hex } from './tlvEncoder.js';

/* Status words, ISO 7816-4 §5.6 and EMV Book 1 §11. */
const SW_OK = '9000';
const SW_WRONG_LENGTH = '6700';
const SW_CONDITIONS = '6985';
const SW_NOT_FOUND = '6A82';
const SW_RECORD_NOT_FOUND = '6A83';
const SW_WRONG_P1P2 = '6A86';
const SW_INS_NOT_SUPPORTED = '6D00';
const SW_CLA_NOT_SUPPORTED = '6E00';
/** What a chatty card says to everything: 16 more bytes are waiting. */
const SW_MORE = '6110';

/**
 * A contactless UnionPay QuickPass (qPBOC) card answering APDUs, the way
 * CARDS.md §1 reads one: SELECT PPSE, SELECT the application, GET
 * PROCESSING OPTIONS (with the fDDA signature), READ RECORD per the AFL.
 * It works in-process (SimCardReader) and behind vpcd (VpcdCard).
 */
export class VirtualBankCard implements ApduResponder {
  readonly atr: Uint8Array;
  private readonly iccKey: EmvKey;
  private readonly pdols: Map<string, DolEntry[]>;
  private atc: number;
  private selected: BankApplication | undefined;

  constructor(readonly image: BankCardImage) {
    this.atr = hex(image.atr);
    this.iccKey = emvKeyFromJson(image.iccKey as EmvKeyJson);
    this.pdols = new Map(image.applications.map((app) => [app.aid.toUpperCase(), parseDol(app.pdol)]));
    this.atc = Number.parseInt(image.atc, 16);
  }

  /** The ATC of the last transaction. It survives resets, as the card's counter does. */
  get transactionCounter(): number {
    return this.atc;
  }

  reset(): void {
    this.selected = undefined;
  }

  respond(apdu: Uint8Array): Uint8Array {
    if (this.image.chatty) return answer(apdu[1] === 0xc0 ? Buffer.alloc(16) : Buffer.alloc(0), SW_MORE);
    if (apdu.length < 4) return answer(Buffer.alloc(0), SW_WRONG_LENGTH);
    const [cla, ins, p1, p2] = apdu as unknown as [number, number, number, number];
    const data = commandData(apdu);
    switch (ins) {
      case 0xa4:
        if (cla !== 0x00) return answer(Buffer.alloc(0), SW_CLA_NOT_SUPPORTED);
        return this.select(p1, p2, data);
      case 0xa8:
        if (cla !== 0x80) return answer(Buffer.alloc(0), SW_CLA_NOT_SUPPORTED);
        return this.getProcessingOptions(p1, p2, data);
      case 0xb2:
        if (cla !== 0x00) return answer(Buffer.alloc(0), SW_CLA_NOT_SUPPORTED);
        return this.readRecord(p1, p2);
      default:
        return answer(Buffer.alloc(0), cla === 0x00 || cla === 0x80 ? SW_INS_NOT_SUPPORTED : SW_CLA_NOT_SUPPORTED);
    }
  }

  /** SELECT by name (P1 04), first occurrence only: the PPSE, or an application by its whole AID. */
  private select(p1: number, p2: number, name: Buffer | undefined): Uint8Array {
    this.selected = undefined;
    if (p1 !== 0x04 || (p2 & 0x03) !== 0x00) return answer(Buffer.alloc(0), p1 !== 0x04 ? SW_WRONG_P1P2 : SW_NOT_FOUND);
    if (!name) return answer(Buffer.alloc(0), SW_WRONG_LENGTH);
    if (name.equals(PPSE_NAME)) return this.image.ppse ? answer(ppseFci(this.image.applications), SW_OK) : answer(Buffer.alloc(0), SW_NOT_FOUND);
    const app = this.image.applications.find((a) => hex(a.aid).equals(name));
    if (!app) return answer(Buffer.alloc(0), SW_NOT_FOUND);
    this.selected = app;
    return answer(applicationFci(app), SW_OK);
  }

  /** `80 A8 00 00 Lc 83 L <PDOL data>`: the ATC counts up, then the card answers and signs. */
  private getProcessingOptions(p1: number, p2: number, data: Buffer | undefined): Uint8Array {
    if (!this.selected) return answer(Buffer.alloc(0), SW_CONDITIONS);
    if (p1 !== 0x00 || p2 !== 0x00) return answer(Buffer.alloc(0), SW_WRONG_P1P2);
    const pdol = this.pdols.get(this.selected.aid.toUpperCase())!;
    if (!data || data.length < 2 || data[0] !== 0x83 || data[1] !== data.length - 2 || data[1] !== dolDataLength(pdol)) {
      return answer(Buffer.alloc(0), SW_WRONG_LENGTH);
    }
    this.atc = (this.atc + 1) & 0xffff;
    const atc = Buffer.from([this.atc >> 8, this.atc & 0xff]);
    return answer(processingOptions(this.image, this.iccKey, pdol, data.subarray(2), atc), SW_OK);
  }

  /** `00 B2 rec (SFI << 3 | 4) 00` */
  private readRecord(p1: number, p2: number): Uint8Array {
    if (!this.selected) return answer(Buffer.alloc(0), SW_CONDITIONS);
    if ((p2 & 0x07) !== 0x04) return answer(Buffer.alloc(0), SW_WRONG_P1P2);
    const record = this.image.records.find((r) => r.sfi === p2 >> 3 && r.record === p1);
    return record ? answer(hex(record.template), SW_OK) : answer(Buffer.alloc(0), SW_RECORD_NOT_FOUND);
  }
}

/** The data field of a case 3 or 4 command, or undefined when Lc is absent or disagrees with the length. */
function commandData(apdu: Uint8Array): Buffer | undefined {
  if (apdu.length < 6) return undefined;
  const lc = apdu[4]!;
  if (lc === 0 || apdu.length < 5 + lc || apdu.length > 6 + lc) return undefined;
  return Buffer.from(apdu.subarray(5, 5 + lc));
}

function answer(data: Uint8Array, sw: string): Uint8Array {
  return Uint8Array.from(Buffer.concat([data, hex(sw)]));
}
