import fc from 'fast-check';
import { parseDol, parseTlv, type Tlv } from '../../src/core/credentials/emv/tlv.js';
import { Refusal } from '../../src/core/reasons.js';
import { mutatedBytes } from './mutators.js';
import { acceptedUnless, crashed, hex, reasonKey, refused, type FuzzTarget, type Outcome } from './target.js';

/*
 * EMV BER-TLV and DOLs as a bank card returns them (src/core/credentials/emv/tlv.ts).
 * Seeds are real answers of UnionPay cards, mutated so that most inputs get
 * past the first length; the parser must return objects that are exactly the
 * bytes it was given, or refuse `malformed`.
 */

const bytesOf = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));

/** A UnionPay debit card's PPSE, SELECT and GPO answers and records (public HCE emulator, repo file id 28726692165). */
const TLV_SEEDS = [
  '6f30840e325041592e5359532e4444463031a51ebf0c1b61194f08a000000333010101500a50424f43204445424954870101',
  '6f598408a000000333010101a54d500a50424f432044454249548701019f381e9f66049f02069f03069f1a0295055f2a029a039c019f3704df6001df69015f2d027a689f1101019f1200bf0c0e9f4d020b0adf4d020c0adf610182',
  '7781c68202200094041003060057134921828094896752d25022013650000000000f9f100706040a03a020009f26089ffe5b7ee37376179f2701809f360203aa9f4b81804703a7be03f1e3dfed25d08fed5739de0d7ba5062b95eeab5aba503e447502d25bfc7d3ea6959b6e9fb9fed7e32f0382654ea3ad32b29728128f5e6fcd31ed2eb7859e9db84a9ca84e5366afac92792bff27adddf55816727e61740b1ae03ab89e3e5cf475099512896a9936f24b1cca97aacb975c4aa2fc827519d69d1d93be9f6c021600',
  '70078f01099f320103',
  '702e9f4701035a0849218280948967525f3401005f24032502285f280208269f6e04207000009f690701c1b626881600',
].map(bytesOf);

/** The PDOL of that card and a CDOL1 (proxmark3 client/src/emv/test/dda_test.c). */
const DOL_SEEDS = ['9f66049f02069f03069f1a0295055f2a029a039c019f3704df6001df6901', '9f02069f03069f1a0295055f2a029a039c019f37049f35019f45029f4c089f3403', '9f3704'].map(bytesOf);

export interface EmvTlvInput {
  dol: boolean;
  bytes: Uint8Array;
}

const MAX_DEPTH = 8;

const isPadding = (byte: number) => byte === 0x00 || byte === 0xff;

/** What parsed objects promise: each is a run of the bytes given, tag and children as its first byte says. */
function treeProblem(nodes: readonly Tlv[], parent: Uint8Array, whole: Uint8Array, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return `objects nested ${depth} deep accepted`;
  let end = parent.byteOffset;
  for (const node of nodes) {
    const { raw, value } = node;
    if (raw.buffer !== whole.buffer || raw.byteOffset < end || raw.byteOffset + raw.length > parent.byteOffset + parent.length) return `tag ${node.tag.toString(16)} is not a run of the bytes parsed`;
    // Between objects there may be 00/FF padding, nothing else.
    for (let at = end; at < raw.byteOffset; at++) if (!isPadding(whole[at]!)) return `byte skipped at ${at - parent.byteOffset} that is not padding`;
    if (value.byteOffset + value.length !== raw.byteOffset + raw.length || raw.length - value.length > 3 + 5) return `tag ${node.tag.toString(16)}: value is not the end of its encoding`;
    if (node.tag > 0xffffff) return `tag ${node.tag.toString(16)} of more than 3 bytes accepted`;
    if (node.constructed !== ((raw[0]! & 0x20) !== 0) || node.constructed !== (node.children !== undefined)) return `tag ${node.tag.toString(16)}: constructed flag and children disagree with its first byte`;
    const inner = node.children && treeProblem(node.children, value, whole, depth + 1);
    if (inner) return inner;
    end = raw.byteOffset + raw.length;
  }
  for (let at = end; at < parent.byteOffset + parent.length; at++) if (!isPadding(whole[at]!)) return 'trailing bytes that are not padding accepted';
  return undefined;
}

function dolProblem(entries: { tag: number; length: number }[]): string | undefined {
  const total = entries.reduce((sum, e) => sum + e.length, 0);
  if (total > 255) return `a DOL asking for ${total} bytes accepted`;
  return entries.some((e) => e.tag > 0xffffff || e.tag === 0) ? 'a DOL entry with an impossible tag accepted' : undefined;
}

function run(input: EmvTlvInput): Outcome {
  try {
    // A copy, so that every offset is relative to a buffer of its own.
    const bytes = Uint8Array.from(input.bytes);
    return acceptedUnless(input.dol ? dolProblem(parseDol(bytes, 'fuzz DOL')) : treeProblem(parseTlv(bytes, 'fuzz TLV'), bytes, bytes, 1));
  } catch (error) {
    // Counted by kind: the tag a detail names (hex) goes the way of its numbers.
    if (error instanceof Refusal && error.reason === 'malformed') return refused(`malformed: ${reasonKey(error.detail.replace(/\btag [0-9A-F]+/, 'tag T'))}`);
    return crashed(error);
  }
}

export function emvTlvTarget(): FuzzTarget<EmvTlvInput> {
  return {
    name: 'emv-tlv',
    weight: 2,
    arbitrary: fc.oneof(
      { weight: 4, arbitrary: mutatedBytes(TLV_SEEDS).map((m) => ({ dol: false, bytes: m.value })) },
      { weight: 2, arbitrary: mutatedBytes(DOL_SEEDS).map((m) => ({ dol: true, bytes: m.value })) },
      { weight: 1, arbitrary: fc.record({ dol: fc.boolean(), bytes: fc.uint8Array({ maxLength: 300 }) }) },
    ),
    run,
    encode: (input) => `${input.dol ? 'dol' : 'tlv'}:${hex.encode(input.bytes)}`,
    decode: (text) => ({ dol: text.startsWith('dol:'), bytes: hex.decode(text.slice(4)) }),
  };
}
