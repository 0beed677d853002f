import { hex } from './tlvEncoder.js';

/** One entry of a data object list (PDOL): a tag and the length the card wants (EMV Book 3 §5.4). */
export interface DolEntry {
  tag: string;
  length: number;
}

/** The entries of a DOL: tags of one to three bytes (b5..b1 of the first all set: more bytes follow while b8 is set), one length byte each. */
export function parseDol(dolHex: string): DolEntry[] {
  const dol = hex(dolHex);
  const entries: DolEntry[] = [];
  let at = 0;
  while (at < dol.length) {
    const start = at;
    let more = (dol[at++]! & 0x1f) === 0x1f;
    while (more && at < dol.length) more = (dol[at++]! & 0x80) !== 0;
    if (at >= dol.length) throw new Error(`DOL ${dolHex} ends inside an entry`);
    entries.push({ tag: dol.subarray(start, at).toString('hex').toUpperCase(), length: dol[at++]! });
  }
  return entries;
}

/** How many bytes of data the terminal must send for this DOL. */
export function dolDataLength(entries: readonly DolEntry[]): number {
  return entries.reduce((sum, entry) => sum + entry.length, 0);
}

/** The terminal's data cut into its elements, by tag (uppercase hex). The caller has checked the length. */
export function dolValues(entries: readonly DolEntry[], data: Uint8Array): Map<string, Buffer> {
  const values = new Map<string, Buffer>();
  let at = 0;
  for (const { tag, length } of entries) {
    values.set(tag, Buffer.from(data.subarray(at, at + length)));
    at += length;
  }
  return values;
}
