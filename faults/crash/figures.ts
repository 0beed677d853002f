import type { CrashedGate } from './crashedGate.js';
import type { KillMoment } from './killMoment.js';
import type { PresentedKind } from './ledger.js';
import type { BarrierWithoutRow, DoubleAcceptance, GateEvidence, GateVerdict, LostTap } from './verifier.js';

export interface GateFigures {
  gate: string;
  kills: number;
  /** The journal's last seq after the drain. */
  lastSeq: number;
  /** The collector's contiguous seq after the drain. */
  collectorUpTo: number;
  accepted: number;
  refused: number;
}

/** What the crash loop did and found; lost, doubleAccepted, barrierWithoutRow and problems must be empty. */
export interface CrashLoopFigures {
  gates: number;
  kills: number;
  /** Kills of a run that never logged 'gate ready'. */
  killsDuringStartup: number;
  /** Kills of a ready run with codes written to it that it had not committed yet (in the pipe or its queue). */
  killsWithTapsInFlight: number;
  /** Kills of a run that had committed a tap the collector did not yet hold. */
  killsWithUploadInFlight: number;
  killsByMoment: Record<KillMoment, number>;
  /** Daemon starts after the first one of each gate (every kill is followed by one). */
  restarts: number;
  codesPresented: number;
  presented: Record<PresentedKind, number>;
  /** `tap` lines in the daemons' logs, over all runs. */
  tapsLogged: number;
  /**
   * Committed taps whose `tap` log line never came out: the daemon's log is
   * asynchronous, and the kill takes what it had not written yet. The journal
   * and the collector have them; only the service log misses them.
   */
  tapLinesLostAtKill: number;
  /** `barrier opened for tap` lines. */
  barrierLines: number;
  tapsInJournal: number;
  accepted: number;
  refused: number;
  byReason: Record<string, number>;
  /** Taps the collector received again (after a kill) and deduped by id. */
  collectorDuplicates: number;
  collectorConflicts: number;
  /** The collector's warnings and errors, by message. */
  collectorWarnings: Record<string, number>;
  /** The daemons' warnings, by message (errors are problems). */
  daemonWarnings: Record<string, number>;
  /** Deny-list snapshots the fleet published during the loop. */
  denyListSnapshots: number;
  /** Journal rows cross-checked with the collector, plus log lines checked against both. */
  checked: number;
  lost: LostTap[];
  doubleAccepted: DoubleAcceptance[];
  barrierWithoutRow: BarrierWithoutRow[];
  problems: string[];
  perGate: GateFigures[];
  durationMs: number;
}

export function emptyFigures(gates: number, denyListSnapshots: number, collectorDuplicates: number, collectorConflicts: number): CrashLoopFigures {
  return {
    gates,
    kills: 0,
    killsDuringStartup: 0,
    killsWithTapsInFlight: 0,
    killsWithUploadInFlight: 0,
    killsByMoment: { startup: 0, 'after-ready': 0, 'on-accept': 0, 'on-upload': 0 },
    restarts: 0,
    codesPresented: 0,
    presented: { fresh: 0, replay: 0, garbage: 0, 'unknown-issuer': 0, 'deny-listed': 0, tampered: 0 },
    tapsLogged: 0,
    tapLinesLostAtKill: 0,
    barrierLines: 0,
    tapsInJournal: 0,
    accepted: 0,
    refused: 0,
    byReason: {},
    collectorDuplicates,
    collectorConflicts,
    collectorWarnings: {},
    daemonWarnings: {},
    denyListSnapshots,
    checked: 0,
    lost: [],
    doubleAccepted: [],
    barrierWithoutRow: [],
    problems: [],
    perGate: [],
    durationMs: 0,
  };
}

function addCounts(into: Record<string, number>, counts: Record<string, number>): void {
  for (const [key, count] of Object.entries(counts)) into[key] = (into[key] ?? 0) + count;
}

/** One gate's runs and verdict into the totals. */
export function addGateFigures(figures: CrashLoopFigures, gate: CrashedGate, evidence: GateEvidence, verdict: GateVerdict): void {
  figures.checked += verdict.checked;
  figures.accepted += verdict.accepted;
  figures.refused += verdict.refused;
  addCounts(figures.byReason, verdict.byReason);
  figures.lost.push(...verdict.lost);
  figures.doubleAccepted.push(...verdict.doubleAccepted);
  figures.barrierWithoutRow.push(...verdict.barrierWithoutRow);
  figures.problems.push(...gate.problems, ...verdict.problems);
  addCounts(figures.daemonWarnings, gate.warnings);
  addCounts(figures.presented, gate.ledger.presented);
  figures.codesPresented += Object.values(gate.ledger.presented).reduce((sum, count) => sum + count, 0);
  figures.tapsInJournal += evidence.journal.length;
  figures.tapsLogged += gate.logged.length;
  figures.barrierLines += gate.barriers.length;
  figures.restarts += gate.runs.length - 1;
  const lastSeq = evidence.journal.at(-1)?.seq ?? 0;
  figures.perGate.push({ gate: gate.gate, kills: gate.runs.length - 1, lastSeq, collectorUpTo: evidence.collected.upTo, accepted: verdict.accepted, refused: verdict.refused });
}
