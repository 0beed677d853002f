import type { CardChannel } from '../../../hal/cardReader.js';
import { refuse } from '../reasons.js';
import { exchange, selectAid, SW_OK } from './apdu.js';
import { parseTlv, type Tlv } from './emv/tlv.js';

/** "2PAY.SYS.DDF01": the contactless payment directory (EMV Book B). */
export const PPSE = Uint8Array.from(Buffer.from('2PAY.SYS.DDF01', 'ascii'));

const TAG_DIRECTORY_ENTRY = 0x61;
const TAG_AID = 0x4f;
const TAG_PRIORITY = 0x87;

export interface DirectoryEntry {
  aid: Uint8Array;
  /** 1 is the highest; 0 (none given) sorts last. */
  priority: number;
}

/**
 * The applications a contactless card lists in its PPSE, highest priority
 * first; none when the card has no PPSE (a CG card, a badge).
 */
export async function readPpse(channel: CardChannel, timeoutMs: number): Promise<DirectoryEntry[]> {
  const answer = await exchange(channel, selectAid(PPSE), timeoutMs, 'SELECT PPSE');
  if (answer.sw !== SW_OK) return [];
  const entries: DirectoryEntry[] = [];
  collect(parseTlv(answer.data, 'PPSE'), entries);
  if (entries.length > 32) refuse('malformed', `PPSE lists ${entries.length} applications`);
  return entries.sort((a, b) => rank(a.priority) - rank(b.priority));
}

function collect(nodes: readonly Tlv[], into: DirectoryEntry[]): void {
  for (const node of nodes) {
    if (node.tag === TAG_DIRECTORY_ENTRY && node.children) {
      const aid = node.children.find((c) => c.tag === TAG_AID)?.value;
      if (!aid || aid.length < 5 || aid.length > 16) refuse('malformed', 'PPSE entry without a valid AID (4F, 5 to 16 bytes)');
      const priority = node.children.find((c) => c.tag === TAG_PRIORITY)?.value[0] ?? 0;
      into.push({ aid, priority: priority & 0x0f });
    } else if (node.children) {
      collect(node.children, into);
    }
  }
}

function rank(priority: number): number {
  return priority === 0 ? 16 : priority;
}
