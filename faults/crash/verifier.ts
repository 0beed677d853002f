import type { Tap } from '../../src/core/tap.js';
import type { SubjectKind } from './ledger.js';
import { collectedTaps, journalTaps, type CollectedTaps } from './stores.js';

/** A tap the gate committed or logged that is missing from a store. */
export interface LostTap {
  gate: string;
  seq: number;
  id: string;
  missingFrom: 'journal' | 'collector';
}

/** One single-use code (one subject) accepted more than once. */
export interface DoubleAcceptance {
  gate: string;
  subject: string;
  seqs: number[];
}

/** A barrier opened for a tap that no store holds as accepted under that seq and id. */
export interface BarrierWithoutRow {
  gate: string;
  seq: number;
  id: string;
  why: string;
}

export interface GateEvidence {
  gate: string;
  /** The journal's rows, by seq. */
  journal: Tap[];
  collected: CollectedTaps;
  /** Every `tap` line the daemon logged, over all runs. */
  logged: Tap[];
  /** Every `barrier opened for tap` line, over all runs. */
  barriers: { seq: number; id: string }[];
  /** What each subject's codes were, and how often they were presented. */
  subjects: ReadonlyMap<string, { kind: SubjectKind; presentations: number }>;
}

export interface GateVerdict {
  /** Journal rows cross-checked against the collector, plus log lines checked against both. */
  checked: number;
  accepted: number;
  refused: number;
  byReason: Record<string, number>;
  lost: LostTap[];
  doubleAccepted: DoubleAcceptance[];
  barrierWithoutRow: BarrierWithoutRow[];
  problems: string[];
}

/** What a gate left behind after its runs: its journal file and its part of the collector's file. */
export function loadEvidence(gate: string, journalPath: string, collectorDb: string, logged: Tap[], barriers: { seq: number; id: string }[], subjects: GateEvidence['subjects']): GateEvidence {
  return { gate, journal: journalTaps(journalPath), collected: collectedTaps(collectorDb, gate), logged, barriers, subjects };
}

/** JSON with sorted keys: two taps are the same if every field is. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** A store's rows by seq; a seq held twice keeps its first row (the duplicate is reported on its own). */
function bySeq(taps: readonly Tap[]): Map<number, Tap> {
  const map = new Map<number, Tap>();
  for (const tap of taps) if (!map.has(tap.seq)) map.set(tap.seq, tap);
  return map;
}

function sameTap(a: Tap, b: Tap): boolean {
  return canonical(a) === canonical(b);
}

/**
 * Checks one gate after the crash loop: the journal gapless and its ids
 * unique; the collector holding exactly the journal's rows (each seq once,
 * same id, same content, no conflicting redelivery, acked to the end); every
 * logged tap and every barrier opening backed by those rows; and no
 * single-use code accepted twice or refused for the wrong reason.
 */
export function verifyGate(evidence: GateEvidence): GateVerdict {
  const verdict: GateVerdict = { checked: 0, accepted: 0, refused: 0, byReason: {}, lost: [], doubleAccepted: [], barrierWithoutRow: [], problems: [] };
  checkJournal(evidence, verdict);
  checkCollector(evidence, verdict);
  checkLogged(evidence, verdict);
  checkBarriers(evidence, verdict);
  checkSubjects(evidence, verdict);
  return verdict;
}

function checkJournal({ gate, journal }: GateEvidence, verdict: GateVerdict): void {
  const seqOfId = new Map<string, number>();
  journal.forEach((tap, index) => {
    if (tap.seq !== index + 1) verdict.problems.push(`${gate} journal: seq ${tap.seq} where ${index + 1} was due (a gap or a reuse)`);
    const earlier = seqOfId.get(tap.id);
    if (earlier !== undefined) verdict.problems.push(`${gate} journal: id ${tap.id} at seq ${earlier} and ${tap.seq}`);
    seqOfId.set(tap.id, tap.seq);
    if (tap.result === 'accepted') verdict.accepted++;
    else verdict.refused++;
    verdict.byReason[tap.reason] = (verdict.byReason[tap.reason] ?? 0) + 1;
  });
}

function checkCollector({ gate, journal, collected }: GateEvidence, verdict: GateVerdict): void {
  const last = journal.at(-1)?.seq ?? 0;
  const journalBySeq = bySeq(journal);
  const stored = new Map<number, Tap[]>();
  for (const tap of collected.taps) stored.set(tap.seq, [...(stored.get(tap.seq) ?? []), tap]);
  for (const [seq, taps] of stored) {
    if (taps.length > 1) verdict.problems.push(`${gate} collector: seq ${seq} stored under ${taps.length} ids (${taps.map((t) => t.id).join(', ')})`);
    if (!journalBySeq.has(seq)) verdict.problems.push(`${gate} collector: seq ${seq} is not in the journal (last seq ${last})`);
  }
  for (const row of journal) {
    verdict.checked++;
    const atSeq = stored.get(row.seq);
    if (!atSeq) {
      verdict.lost.push({ gate, seq: row.seq, id: row.id, missingFrom: 'collector' });
      verdict.problems.push(`${gate} collector: seq ${row.seq} missing (a gap)`);
    } else if (!atSeq.some((tap) => tap.id === row.id)) {
      verdict.lost.push({ gate, seq: row.seq, id: row.id, missingFrom: 'collector' });
      verdict.problems.push(`${gate} collector: seq ${row.seq} has id ${atSeq[0]!.id}, the journal ${row.id}`);
    } else if (!sameTap(atSeq.find((tap) => tap.id === row.id)!, row)) {
      verdict.problems.push(`${gate} collector: tap ${row.id} (seq ${row.seq}) differs from the journal's row`);
    }
  }
  for (const conflict of collected.conflicts) verdict.problems.push(`${gate} collector: id ${conflict.id} arrived again (seq ${conflict.seq}) with other content`);
  if (collected.upTo !== last) verdict.problems.push(`${gate} collector: acks up to seq ${collected.upTo}, the journal's last is ${last}`);
}

function checkLogged({ gate, journal, collected, logged }: GateEvidence, verdict: GateVerdict): void {
  const collectedById = new Map(collected.taps.map((tap) => [tap.id, tap]));
  const journalBySeq = bySeq(journal);
  for (const tap of logged) {
    verdict.checked++;
    const row = journalBySeq.get(tap.seq);
    if (row?.id !== tap.id) verdict.lost.push({ gate, seq: tap.seq, id: tap.id, missingFrom: 'journal' });
    else if (!sameTap(row, tap)) verdict.problems.push(`${gate}: logged tap ${tap.id} (seq ${tap.seq}) differs from its journal row`);
    const stored = collectedById.get(tap.id);
    if (!stored) verdict.lost.push({ gate, seq: tap.seq, id: tap.id, missingFrom: 'collector' });
    else if (!sameTap(stored, tap)) verdict.problems.push(`${gate}: logged tap ${tap.id} (seq ${tap.seq}) differs from the collector's (seq ${stored.seq})`);
  }
}

function checkBarriers({ gate, journal, collected, barriers }: GateEvidence, verdict: GateVerdict): void {
  const collectedById = new Map(collected.taps.map((tap) => [tap.id, tap]));
  const journalBySeq = bySeq(journal);
  for (const { seq, id } of barriers) {
    verdict.checked++;
    const row = journalBySeq.get(seq);
    const stored = collectedById.get(id);
    const why =
      row?.id !== id ? `the journal has ${row ? `id ${row.id}` : 'no row'} at seq ${seq}`
      : row.result !== 'accepted' ? `the journal row is refused (${row.reason})`
      : !stored ? 'the collector has no tap with that id'
      : stored.seq !== seq ? `the collector has it at seq ${stored.seq}`
      : stored.result !== 'accepted' ? `the collector's tap is refused (${stored.reason})`
      : undefined;
    if (why) verdict.barrierWithoutRow.push({ gate, seq, id, why });
  }
}

/**
 * Per subject, in the order presented: what each kind of code must have
 * given. Over every tap known by id (journal, collector, log), so that a gate
 * that forgot its journal is still caught accepting a code again.
 */
function checkSubjects({ gate, journal, collected, logged, subjects }: GateEvidence, verdict: GateVerdict): void {
  const known = new Map<string, Tap>();
  for (const tap of [...journal, ...collected.taps, ...logged]) if (!known.has(tap.id)) known.set(tap.id, tap);
  const bySubject = new Map<string | null, Tap[]>();
  for (const tap of known.values()) bySubject.set(tap.subject, [...(bySubject.get(tap.subject) ?? []), tap]);
  for (const [subject, unordered] of bySubject) {
    const taps = unordered.sort((a, b) => a.at.localeCompare(b.at) || a.seq - b.seq);
    const accepted = taps.filter((tap) => tap.result === 'accepted');
    const record = subject === null ? undefined : subjects.get(subject);
    if (accepted.length > 1 && subject !== null) verdict.doubleAccepted.push({ gate, subject, seqs: accepted.map((tap) => tap.seq) });
    if (!record) {
      for (const tap of accepted) verdict.problems.push(`${gate}: seq ${tap.seq} accepted subject ${String(subject)}, which no valid code carried`);
      continue;
    }
    if (taps.length > record.presentations) verdict.problems.push(`${gate}: subject ${subject} has ${taps.length} taps from ${record.presentations} presentations`);
    // A second acceptance is reported once, as a double acceptance.
    const wrong = taps.filter((tap, index) => !expected(record.kind, index, tap) && !(accepted.length > 1 && tap.result === 'accepted'));
    for (const tap of wrong) verdict.problems.push(`${gate}: seq ${tap.seq} (${record.kind} code of ${subject}, tap ${taps.indexOf(tap) + 1} of ${taps.length}) was ${tap.result} ${tap.reason}`);
  }
}

/** A valid code: accepted the first time, `replayed` after; the others: always refused, for their reason. */
function expected(kind: SubjectKind, index: number, tap: Tap): boolean {
  switch (kind) {
    case 'valid':
      return index === 0 ? tap.result === 'accepted' : tap.reason === 'replayed';
    case 'deny-listed':
      return tap.reason === 'deny-listed';
    case 'unknown-issuer':
      return tap.reason === 'unknown-issuer';
    case 'tampered':
      return tap.result === 'refused';
  }
}
