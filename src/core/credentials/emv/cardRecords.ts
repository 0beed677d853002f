import type { CardChannel } from '../../../../hal/cardReader.js';
import { refuse } from '../../reasons.js';
import { exchange, SW_OK, swText } from '../apdu.js';
import { parseTlv, type Tlv } from './tlv.js';

const TAG_RECORD_TEMPLATE = 0x70;
const TAG_FORMAT_1 = 0x80;
const TAG_FORMAT_2 = 0x77;
const TAG_AIP = 0x82;
const TAG_AFL = 0x94;
const TAG_SDA_TAG_LIST = 0x9f4a;
/** More records than any real card has: a hostile card cannot make the gate read for ever. */
const MAX_RECORDS = 40;

/** What the card said in GET PROCESSING OPTIONS and its records: each primitive data element once. */
export class CardData {
  private readonly elements = new Map<number, Uint8Array>();
  /** The records that offline data authentication covers, as EMV Book 3 §10.3 concatenates them. */
  private readonly oda: Uint8Array[] = [];

  add(nodes: readonly Tlv[], where: string): void {
    for (const node of nodes) {
      if (node.children) {
        this.add(node.children, where);
        continue;
      }
      const held = this.elements.get(node.tag);
      if (held && !Buffer.from(held).equals(node.value)) refuse('malformed', `${where}: tag ${tagText(node.tag)} given twice with different values`);
      this.elements.set(node.tag, node.value);
    }
  }

  get(tag: number): Uint8Array | undefined {
    return this.elements.get(tag);
  }

  /** The element, or `malformed` naming it. */
  need(tag: number, what: string): Uint8Array {
    const value = this.elements.get(tag);
    if (value === undefined) refuse('malformed', `the card gave no ${what} (${tagText(tag)})`);
    return value;
  }

  addOdaRecord(record: Uint8Array): void {
    this.oda.push(record);
  }

  /** The static data to be authenticated: the ODA records, then the AIP when `9F4A` lists it (the only tag it may list). */
  staticData(): Uint8Array {
    const list = this.elements.get(TAG_SDA_TAG_LIST);
    if (list === undefined || list.length === 0) return Buffer.concat(this.oda);
    if (list.length !== 1 || list[0] !== TAG_AIP) refuse('bad-signature', `static data tag list 9F4A may list only 82, it lists ${Buffer.from(list).toString('hex').toUpperCase()}`);
    return Buffer.concat([...this.oda, this.need(TAG_AIP, 'application interchange profile')]);
  }
}

/** The GET PROCESSING OPTIONS answer: format 1 (`80`: AIP and AFL) or format 2 (`77`: a template). */
export function readGpoResponse(data: Uint8Array, into: CardData): void {
  const [top, ...rest] = parseTlv(data, 'GET PROCESSING OPTIONS');
  if (!top || rest.length > 0) refuse('malformed', 'GET PROCESSING OPTIONS: one template expected');
  if (top.tag === TAG_FORMAT_1) {
    if (top.value.length < 2 || (top.value.length - 2) % 4 !== 0) refuse('malformed', `GET PROCESSING OPTIONS format 1 of ${top.value.length} bytes`);
    into.add(
      [
        { tag: TAG_AIP, constructed: false, value: top.value.subarray(0, 2), raw: top.value.subarray(0, 2) },
        { tag: TAG_AFL, constructed: false, value: top.value.subarray(2), raw: top.value.subarray(2) },
      ],
      'GET PROCESSING OPTIONS',
    );
  } else if (top.tag === TAG_FORMAT_2 && top.children) {
    into.add(top.children, 'GET PROCESSING OPTIONS');
  } else {
    refuse('malformed', `GET PROCESSING OPTIONS answered template ${tagText(top.tag)}`);
  }
}

interface AflEntry {
  sfi: number;
  first: number;
  last: number;
  oda: number;
}

/** The Application File Locator `94`: four bytes per file (SFI << 3, first and last record, how many of them ODA covers). */
export function parseAfl(afl: Uint8Array): AflEntry[] {
  if (afl.length === 0 || afl.length % 4 !== 0) refuse('malformed', `application file locator of ${afl.length} bytes`);
  const entries: AflEntry[] = [];
  let records = 0;
  for (let i = 0; i < afl.length; i += 4) {
    const sfi = afl[i]! >> 3;
    const first = afl[i + 1]!;
    const last = afl[i + 2]!;
    const oda = afl[i + 3]!;
    if (sfi < 1 || sfi > 30 || (afl[i]! & 0x07) !== 0 || first < 1 || last < first || oda > last - first + 1) {
      refuse('malformed', `application file locator entry ${Buffer.from(afl.subarray(i, i + 4)).toString('hex').toUpperCase()}`);
    }
    records += last - first + 1;
    entries.push({ sfi, first, last, oda });
  }
  if (records > MAX_RECORDS) refuse('malformed', `application file locator names ${records} records`);
  return entries;
}

/** READ RECORD of every record the AFL names; ODA records are kept as Book 3 §10.3 says. */
export async function readRecords(channel: CardChannel, afl: readonly AflEntry[], timeoutMs: number, into: CardData): Promise<void> {
  for (const { sfi, first, last, oda } of afl) {
    for (let record = first; record <= last; record++) {
      const what = `READ RECORD ${record} of SFI ${sfi}`;
      const answer = await exchange(channel, Uint8Array.from([0x00, 0xb2, record, (sfi << 3) | 0x04, 0x00]), timeoutMs, what);
      if (answer.sw !== SW_OK) refuse('malformed', `${what} answered ${swText(answer.sw)}`);
      const nodes = parseTlv(answer.data, what);
      const template = nodes.length === 1 ? nodes[0] : undefined;
      const isTemplate = template?.tag === TAG_RECORD_TEMPLATE && template.raw.length === answer.data.length;
      if (record - first < oda) {
        // SFI 1-10: the template's value; SFI 11-30: the whole record. A bad ODA record fails authentication.
        if (sfi <= 10 && !isTemplate) refuse('bad-signature', `${what} is covered by offline authentication but is no 70 template`);
        into.addOdaRecord(sfi <= 10 ? template!.value : answer.data);
      }
      if (isTemplate) into.add(template!.children ?? [], what);
      else if (sfi <= 10) refuse('malformed', `${what} is no 70 template`);
    }
  }
}

export function tagText(tag: number): string {
  return tag.toString(16).toUpperCase();
}
