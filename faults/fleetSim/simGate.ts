import { join } from 'node:path';
import { assembleGate, type AssembledGate } from '../../src/app/assemble.js';
import { loadTrustFile, TrustFile } from '../../src/app/trustFile.js';
import { CATEGORIES } from '../../src/core/credentials/credential.js';
import { DenyListStore } from '../../src/core/denylist/denyListStore.js';
import type { Log } from '../../src/core/log.js';
import { DEFAULT_TIMINGS, type GateSettings } from '../../src/core/settings.js';
import { FleetLink, type DenyListSink } from '../../src/core/sync/fleetLink.js';
import { createSimBoard } from '../../sim/board.js';

export interface SimGateOptions {
  url: string;
  gateId: string;
  site: string;
  /** The gate's directory, holding its trust file already: journal and deny-list store go here. */
  dir: string;
  log: Log;
}

/** What the rig learns from one gate as it runs, without changing what the gate does. */
export interface GateProbe {
  /** A tap was committed to the journal. */
  tap(seq: number, atMs: number): void;
  /** The journal's delivered mark moved to `mark` on a collector's ack. */
  delivered(mark: number, atMs: number): void;
  /** A deny-list update was applied: the gate now holds `seq` of `issuer`. */
  denyApplied(issuer: string, seq: number, atMs: number): void;
}

export interface SimGate {
  gateId: string;
  parts: AssembledGate;
  link: FleetLink;
  denyList: DenyListStore;
  stop(): Promise<void>;
}

/**
 * One metro entry gate as the daemon wires it (src/app/daemon.ts): the sim
 * board, the real decider and Gate, its own SQLite journal and deny-list
 * store, and the real FleetLink with the product's default uploader, backoff
 * and SUBACK timeout. Only the probe is added: it watches commits, the
 * delivered mark and deny-list applications.
 */
export async function startSimGate(options: SimGateOptions, probe: GateProbe): Promise<SimGate> {
  const board = createSimBoard(Date.now());
  const settings: GateSettings & { site: string } = {
    gateId: options.gateId,
    site: options.site,
    zone: undefined,
    mode: 'metro-entry',
    categories: CATEGORIES,
    fares: { default: 200, byCategory: {} },
    metro: { station: options.site, passbackMin: 20, fares: { default: 200, byRoute: {}, rules: [{ category: 'senior', fare: 0 }] } },
    ...DEFAULT_TIMINGS,
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
  };
  const trustPath = join(options.dir, 'trust.json');
  const denyList = DenyListStore.open(join(options.dir, 'denylist'));
  const parts = assembleGate({ board, settings, trust: loadTrustFile(trustPath), denyList, journalPath: join(options.dir, 'journal.db'), log: options.log });
  const trust = new TrustFile(trustPath, parts.journal, parts.decider);
  // The uploader moves the mark through the journal only: wrapping this one instance's method sees every ack the gate takes.
  const journal = parts.journal;
  const markDelivered = journal.markDelivered.bind(journal);
  journal.markDelivered = (upTo: number) => {
    const mark = markDelivered(upTo);
    probe.delivered(mark, Date.now());
    return mark;
  };
  const watchedDenyList: DenyListSink = {
    apply(update) {
      const result = denyList.apply(update);
      if (result.status === 'applied') probe.denyApplied(update.issuer, result.seq, Date.now());
      return result;
    },
    seqs: () => denyList.seqs(),
  };
  parts.gate.onOutcome((outcome) => {
    if (outcome.type === 'tap') probe.tap(outcome.tap.seq, Date.now());
  });
  const link = new FleetLink(
    { ...parts, denyList: watchedDenyList, trust, clock: board.clock, gateId: options.gateId, site: options.site, skewSec: settings.skewSec, version: '0.1.0-fleetsim', log: options.log, onModeCommand: () => undefined },
    { url: options.url },
  );
  await parts.gate.start();
  link.start();
  let stopped = false;
  return {
    gateId: options.gateId,
    parts,
    link,
    denyList,
    async stop() {
      if (stopped) return;
      stopped = true;
      await link.stop();
      await parts.gate.stop();
      parts.journal.close();
      denyList.close();
    },
  };
}
