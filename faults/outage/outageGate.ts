import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleGate, type AssembledGate } from '../../src/app/assemble.js';
import { loadTrustFile, TrustFile } from '../../src/app/trustFile.js';
import { CATEGORIES } from '../../src/core/credentials/credential.js';
import type { TrustListDocument } from '../../src/core/credentials/trustList.js';
import { DenyListStore } from '../../src/core/denylist/denyListStore.js';
import { DEFAULT_TIMINGS, type GateSettings } from '../../src/core/settings.js';
import { openDenyListUpdate } from '../../src/core/sync/denyListMessage.js';
import { FleetLink } from '../../src/core/sync/fleetLink.js';
import { DEFAULT_UPLOADER, type UploaderOptions } from '../../src/core/sync/tapUploader.js';
import { createSimBoard, type SimBoard } from '../../sim/board.js';
import { RecordingLog } from './recordingLog.js';

export const STATION = 'Jiefangbei';

export interface OutageGateOptions {
  url: string;
  gateId: string;
  site: string;
  /** The gate's own directory: journal, trust file, deny lists. */
  dir: string;
  trust: TrustListDocument;
  startWallMs: number;
  uploader?: Partial<UploaderOptions>;
  /** Slowest reconnect backoff; absent: the product's default, as the daemon runs it. */
  maxBackoffMs?: number;
  /** Signed deny-list updates the gate received before this run (from yesterday's connection), applied as the link would. */
  heldDenyLists?: { issuer: string; bytes: Uint8Array }[];
}

export interface OutageGate extends AssembledGate {
  board: SimBoard;
  link: FleetLink;
  denyList: DenyListStore;
  log: RecordingLog;
  gateId: string;
  /** How many times the gate's link has connected to the broker, from its log. */
  connects(): number;
  stop(): Promise<void>;
}

/**
 * A metro entry gate on the simulated board with its real journal (SQLite in
 * `dir`), deny-list store and FleetLink, wired as the daemon wires them
 * (src/app/daemon.ts). The link starts at once and does not wait for the
 * broker: it may be down.
 */
export async function startOutageGate(options: OutageGateOptions): Promise<OutageGate> {
  mkdirSync(options.dir, { recursive: true });
  const trustPath = join(options.dir, 'trust.json');
  if (!existsSync(trustPath)) writeFileSync(trustPath, JSON.stringify(options.trust));
  const board = createSimBoard(options.startWallMs);
  const settings: GateSettings & { site: string } = {
    gateId: options.gateId,
    site: options.site,
    zone: undefined,
    mode: 'metro-entry',
    categories: CATEGORIES,
    fares: { default: 200, byCategory: {} },
    metro: { station: STATION, passbackMin: 20, fares: { default: 200, byRoute: {}, rules: [{ category: 'senior', fare: 0 }, { category: 'student', percent: 50 }] } },
    ...DEFAULT_TIMINGS,
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
  };
  const log = new RecordingLog();
  const denyList = DenyListStore.open(join(options.dir, 'denylist'));
  const trustStore = loadTrustFile(trustPath);
  for (const held of options.heldDenyLists ?? []) denyList.apply(openDenyListUpdate(held.bytes, held.issuer, trustStore, Math.floor(options.startWallMs / 1000)));
  const parts = assembleGate({ board, settings, trust: trustStore, denyList, journalPath: join(options.dir, 'journal.db'), log });
  const trust = new TrustFile(trustPath, parts.journal, parts.decider);
  const link = new FleetLink(
    { ...parts, denyList, trust, clock: board.clock, gateId: options.gateId, site: options.site, skewSec: settings.skewSec, version: '0.1.0-outage', log, onModeCommand: () => undefined },
    { url: options.url, uploader: { ...DEFAULT_UPLOADER, ...options.uploader }, ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}) },
  );
  await parts.gate.start();
  link.start();
  let stopped = false;
  return {
    ...parts,
    board,
    link,
    denyList,
    log,
    gateId: options.gateId,
    connects: () => log.count('connected to the broker'),
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
