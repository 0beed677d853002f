import type { Board } from '../../hal/board.js';
import type { BankCardKeys } from '../core/credentials/qpbocCard.js';
import type { TrustStore } from '../core/credentials/trustList.js';
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
  const decider = new Decider(options.trust, settings, options.denyList, replay, options.bank);
  // Mode rules that look back (passback, transfers, a venue's count today) learn the last day again.
  for (const tap of journal.eachTap(0, new Date(now - RULES_MEMORY_MS).toISOString())) decider.recordTap(tap);
  const gate = new Gate({ board, decider, journal, replay, settings, log });
  return { gate, journal, decider, replay };
}
