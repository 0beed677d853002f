import type { Board } from '../../hal/board.js';
import type { BankCardKeys } from '../core/credentials/qpbocCard.js';
import type { TrustStore } from '../core/credentials/trustList.js';
import { PendingPurses } from '../core/credentials/tunion/pendingPurses.js';
import { Psam } from '../core/credentials/tunion/psam.js';
import type { PurseParts } from '../core/credentials/tunion/purseDecision.js';
import { DEFAULT_TUNION_SETTINGS } from '../core/credentials/tunion/tunionCard.js';
import { Decider } from '../core/decider.js';
import type { DenyList } from '../core/denyList.js';
import { Gate } from '../core/gate.js';
import { Journal } from '../core/journal.js';
import type { Log } from '../core/log.js';
import { ReplayGuard } from '../core/replayGuard.js';
import type { GateSettings } from '../core/settings.js';

const RULES_MEMORY_MS = 24 * 3_600_000;

export interface AssembledGate {
  gate: Gate;
  journal: Journal;
  decider: Decider;
  replay: ReplayGuard;
}

/**
 * Wire a gate from its parts: the one way the daemon, the simulator and the
 * benchmarks build it. Single-use credentials still in force are reloaded
 * from the journal so that a restart opens no replay window.
 */
export function assembleGate(options: {
  board: Board;
  settings: GateSettings & { site: string };
  trust: TrustStore;
  /** CA keys and token key for bank cards; absent: the gate takes none. */
  bank?: BankCardKeys | undefined;
  denyList: DenyList;
  journalPath: string;
  log: Log;
}): AssembledGate {
  const { board, settings, log } = options;
  const journal = Journal.open(options.journalPath, settings.gateId, settings.site);
  const replay = new ReplayGuard();
  const now = board.clock.now();
  journal.pruneUsedCredentials(now);
  for (const used of journal.usedCredentials(now)) replay.remember(used.key, used.until, now);
  const purse = purseParts(board, settings);
  // Purchases whose DEBIT went out as the gate died are pending taps before anything else happens.
  for (const tap of journal.recoverPurses()) log.warn({ seq: tap.seq, card: tap.subject }, 'purse purchase cut off by a stop: journaled as pending');
  const decider = new Decider(options.trust, settings, options.denyList, replay, options.bank, purse);
  // Mode rules that look back (passback, transfers, a venue's count today, pending purchases) learn the last day again.
  for (const tap of journal.eachTap(0, new Date(now - RULES_MEMORY_MS).toISOString())) decider.recordTap(tap);
  const gate = new Gate({ board, decider, journal, replay, settings, log, ...(purse?.psam ? { psam: purse.psam } : {}) });
  // Taking purse cards with no SAM slot is a gate that refuses them all: its status says so from the start.
  if (purse && !purse.psam) gate.reportDevice('psam', false, 'gate.cards.applications has tunion but the board has no SAM slot (devices.sam): purse cards are refused');
  return { gate, journal, decider, replay };
}

/** A gate that takes T-Union cards: its PSAM (when the board has a SAM slot) and its pending purchases. */
function purseParts(board: Board, settings: GateSettings): PurseParts | undefined {
  if (!settings.cards?.applications.includes('tunion')) return undefined;
  const tunion = settings.tunion ?? DEFAULT_TUNION_SETTINGS;
  return { psam: board.sam ? new Psam(board.sam, settings.apduTimeoutMs) : undefined, pending: new PendingPurses(tunion.pendingWindowMin * 60_000), settings: tunion };
}
