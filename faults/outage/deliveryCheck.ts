import Database from 'better-sqlite3';
import type { CollectorStats } from '../../provisioning/collector/collector.js';
import type { Journal } from '../../src/core/journal.js';
import type { Tap } from '../../src/core/tap.js';
import { tapFromRow, type TapRow } from '../../src/core/tapRow.js';

const TAP_FIELDS = ['id', 'seq', 'at', 'gate', 'site', 'mode', 'kind', 'issuer', 'subject', 'category', 'result', 'reason', 'fare', 'product', 'latencyMs', 'place'] as const;
const PROBLEMS_KEPT = 20;

/** One gate's journal against the reference collector's store. */
export interface DeliveryCheck {
  gate: string;
  journalTaps: number;
  storedTaps: number;
  lastSeq: number;
  deliveredMark: number;
  backlog: number;
  /** Journal taps the store does not hold: must be 0. */
  lost: number;
  /** Everything else that is wrong (seq gaps, changed content, strangers in the store): must be empty. */
  problems: string[];
}

/** JSON with object keys sorted: the journal and the store may write a product's keys in another order. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

function differingFields(a: Tap, b: Tap): string[] {
  return TAP_FIELDS.filter((field) => canonical(a[field]) !== canonical(b[field]));
}

/**
 * "Delivered" in the sense of docs/sync.md: every journal tap stored once by
 * the reference collector with identical content, seqs 1..N without a gap,
 * and the gate's delivered mark at N with nothing left to send.
 */
export function checkDelivery(journal: Journal, gate: string, storePath: string): DeliveryCheck {
  const problems: string[] = [];
  const note = (...found: string[]) => void problems.push(...found.slice(0, PROBLEMS_KEPT - problems.length));
  const journaled = journal.taps(0, Number.MAX_SAFE_INTEGER);
  const db = new Database(storePath, { readonly: true, fileMustExist: true });
  let stored: Tap[];
  try {
    stored = (db.prepare('SELECT * FROM taps WHERE gate = ? ORDER BY seq').all(gate) as TapRow[]).map(tapFromRow);
  } finally {
    db.close();
  }
  const storedById = new Map(stored.map((tap) => [tap.id, tap]));
  note(...seqProblems('store', stored.map((tap) => tap.seq), journal.lastTapSeq()));
  note(...seqProblems('journal', journaled.map((tap) => tap.seq), journal.lastTapSeq()));
  const lostSeqs: number[] = [];
  const journalIds = new Set<string>();
  for (const tap of journaled) {
    journalIds.add(tap.id);
    const copy = storedById.get(tap.id);
    if (!copy) {
      lostSeqs.push(tap.seq);
      continue;
    }
    const changed = differingFields(tap, copy);
    if (changed.length > 0) note(`seq ${tap.seq} id ${tap.id} stored with other ${changed.join(', ')}`);
  }
  if (lostSeqs.length > 0) note(`lost ${lostSeqs.length} taps: seqs ${ranges(lostSeqs)}`);
  for (const tap of stored) if (!journalIds.has(tap.id)) note(`stored but not journaled: seq ${tap.seq} id ${tap.id}`);
  const lastSeq = journal.lastTapSeq();
  const deliveredMark = journal.deliveredSeq();
  const backlog = journal.backlog();
  if (deliveredMark !== lastSeq) note(`delivered mark ${deliveredMark}, last seq ${lastSeq}`);
  if (backlog !== 0) note(`backlog ${backlog}`);
  if (lastSeq !== journaled.length) note(`last seq ${lastSeq} but ${journaled.length} journal rows`);
  return { gate, journalTaps: journaled.length, storedTaps: stored.length, lastSeq, deliveredMark, backlog, lost: lostSeqs.length, problems };
}

/** Seqs (rising) that are not exactly 1..last: the missing ranges and any seq held twice. */
function seqProblems(where: string, seqs: readonly number[], last: number): string[] {
  const found: string[] = [];
  const twice = seqs.filter((seq, i) => i > 0 && seq === seqs[i - 1]);
  if (twice.length > 0) found.push(`${where}: seqs held twice: ${ranges(twice)}`);
  const held = new Set(seqs);
  const missing: number[] = [];
  for (let seq = 1; seq <= last; seq++) if (!held.has(seq)) missing.push(seq);
  if (missing.length > 0) found.push(`${where}: seqs missing: ${ranges(missing)}`);
  const beyond = seqs.filter((seq) => seq > last);
  if (beyond.length > 0) found.push(`${where}: seqs beyond the last tap ${last}: ${ranges(beyond)}`);
  return found;
}

/** Rising seqs as ranges: "1..1000, 1502". */
function ranges(seqs: readonly number[]): string {
  const parts: string[] = [];
  let start = seqs[0]!;
  for (let i = 1; i <= seqs.length; i++) {
    if (seqs[i] === seqs[i - 1]! + 1) continue;
    parts.push(start === seqs[i - 1] ? `${start}` : `${start}..${seqs[i - 1]}`);
    start = seqs[i]!;
  }
  return parts.join(', ');
}

/** The collector's own view: no conflicting or malformed batch, each gate's contiguous range at its last seq, no hole. */
export function checkCollector(stats: CollectorStats, lastSeqByGate: Record<string, number>): string[] {
  const problems: string[] = [];
  if (stats.conflicts !== 0) problems.push(`collector: ${stats.conflicts} conflicting taps`);
  if (stats.malformed !== 0) problems.push(`collector: ${stats.malformed} malformed batches`);
  for (const [gate, last] of Object.entries(lastSeqByGate)) {
    const progress = stats.gates.find((g) => g.gate === gate);
    if (!progress) problems.push(`collector: never heard of ${gate}`);
    else if (progress.upTo !== last || progress.gaps.length > 0) problems.push(`collector: ${gate} stored up to ${progress.upTo}, gaps ${JSON.stringify(progress.gaps)}, last seq ${last}`);
  }
  return problems;
}
