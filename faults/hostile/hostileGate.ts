import mqtt from 'mqtt';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CardReader, CardReaderEvent } from '../../hal/cardReader.js';
import { assembleGate, type AssembledGate } from '../../src/app/assemble.js';
import { loadTrustFile, TrustFile } from '../../src/app/trustFile.js';
import { CATEGORIES } from '../../src/core/credentials/credential.js';
import type { TrustListDocument } from '../../src/core/credentials/trustList.js';
import { DenyListStore } from '../../src/core/denylist/denyListStore.js';
import type { Outcome } from '../../src/core/gate.js';
import { DEFAULT_TIMINGS, type GateSettings } from '../../src/core/settings.js';
import { FleetLink } from '../../src/core/sync/fleetLink.js';
import type { SiteAuthentication } from '../../src/core/sync/siteSharing.js';
import { DEFAULT_UPLOADER } from '../../src/core/sync/tapUploader.js';
import { createSimBoard, type SimBoard } from '../../sim/board.js';
import { recorded } from '../../sim/pcscSim.js';
import { RecordingLog } from '../../sim/recordingLog.js';
import { until } from './until.js';

export interface HostileGateOptions {
  url: string;
  gateId: string;
  site: string;
  trust: TrustListDocument;
  startWallMs: number;
  /** A second reader besides the sim one (the real PC/SC stack). */
  extraReader?: CardReader;
  /** Its device certificate and the fleet's device CA, checked at the gate's time: site messages signed and checked. */
  siteAuth?: (now: () => number) => SiteAuthentication;
}

/** A passenger-facing gate as the daemon wires it (assembleGate + FleetLink), on the simulated board. */
export interface HostileGate extends AssembledGate {
  gateId: string;
  site: string;
  board: SimBoard;
  link: FleetLink;
  denyList: DenyListStore;
  trust: TrustFile;
  log: RecordingLog;
  /** Every presentation's outcome, in order. */
  outcomes: Outcome[];
  /** Every event of every reader, in order. */
  readerEvents: CardReaderEvent[];
  nowSec(): number;
  dispose(): Promise<void>;
}

/** Start a gate with its journal, deny-list store and trust file in a temp dir; resolves once it is subscribed to the broker. */
export async function startHostileGate(options: HostileGateOptions): Promise<HostileGate> {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-hostile-'));
  const trustPath = join(dir, 'trust.json');
  writeFileSync(trustPath, JSON.stringify(options.trust));
  const board = createSimBoard(options.startWallMs);
  const readerEvents: CardReaderEvent[] = [];
  board.readers = [board.reader, ...(options.extraReader ? [options.extraReader] : [])].map((reader) => recorded(reader, readerEvents));
  const settings: GateSettings & { site: string } = {
    gateId: options.gateId,
    site: options.site,
    zone: undefined,
    mode: 'metro-entry',
    categories: CATEGORIES,
    fares: { default: 200, byCategory: { senior: 0 } },
    ...DEFAULT_TIMINGS,
    // vpcd adds about 40 ms to every exchange (docs/hardware-pcsc.md), far more on a loaded machine.
    apduTimeoutMs: 1_500,
    cards: { applications: ['cg'], deadlineMs: 15_000 },
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
  };
  const log = new RecordingLog();
  const denyList = DenyListStore.open(join(dir, 'denylist'));
  const parts = assembleGate({ board, settings, trust: loadTrustFile(trustPath), denyList, journalPath: join(dir, 'journal.db'), log });
  const trust = new TrustFile(trustPath, parts.journal, parts.decider);
  const link = new FleetLink(
    { ...parts, denyList, trust, clock: board.clock, gateId: options.gateId, site: options.site, skewSec: settings.skewSec, version: 'hostile', log, onModeCommand: () => undefined, ...(options.siteAuth ? { siteAuth: options.siteAuth(() => board.clock.now()) } : {}) },
    { url: options.url, uploader: DEFAULT_UPLOADER, maxBackoffMs: 1_000 },
  );
  const outcomes: Outcome[] = [];
  parts.gate.onOutcome((outcome) => outcomes.push(outcome));

  // A live (not retained) online status means the gate's subscriptions are in place.
  const watcher = mqtt.connect(options.url, { clientId: `hostile-ready-${options.gateId}-${process.pid}`, reconnectPeriod: 200 });
  let ready = false;
  watcher.on('message', (_topic, payload, packet) => {
    if (!packet.retain && (JSON.parse(payload.toString('utf8')) as { online?: boolean }).online === true) ready = true;
  });
  let started = false;
  const dispose = async (): Promise<void> => {
    await watcher.endAsync(true);
    await link.stop();
    if (started) await parts.gate.stop();
    parts.journal.close();
    denyList.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('the readiness watcher connected', () => (watcher.connected ? true : undefined));
    await watcher.subscribeAsync(`citygate/v1/gates/${options.gateId}/status`, { qos: 1 });
    await parts.gate.start();
    started = true;
    link.start();
    await until(`${options.gateId} connected and subscribed`, () => (ready ? true : undefined));
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    ...parts,
    gateId: options.gateId,
    site: options.site,
    board,
    link,
    denyList,
    trust,
    log,
    outcomes,
    readerEvents,
    nowSec: () => Math.floor(board.clock.now() / 1000),
    dispose,
  };
}
