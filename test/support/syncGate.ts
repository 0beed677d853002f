import mqtt from 'mqtt';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleGate, type AssembledGate } from '../../src/app/assemble.js';
import { RevocationFile, REVOCATIONS_FILE } from '../../src/app/revocationFile.js';
import { loadTrustFile, TrustFile } from '../../src/app/trustFile.js';
import { CATEGORIES } from '../../src/core/credentials/credential.js';
import { DenyListStore } from '../../src/core/denylist/denyListStore.js';
import type { Log } from '../../src/core/log.js';
import { DEFAULT_TIMINGS, type GateMode, type GateSettings } from '../../src/core/settings.js';
import { FleetLink } from '../../src/core/sync/fleetLink.js';
import { DEFAULT_UPLOADER, type UploaderOptions } from '../../src/core/sync/tapUploader.js';
import { createSimBoard, type SimBoard } from '../../sim/board.js';
import { trustListOf, type TestIssuer } from '../../sim/issuer.js';
import { RecordingLog } from '../../sim/recordingLog.js';

export { RecordingLog, type LogLine } from '../../sim/recordingLog.js';
import type { TestFleetKey } from './fleetSigner.js';
import { waitFor } from './waitFor.js';

export const START = Date.parse('2026-11-23T08:00:00Z');

export interface SyncGateOptions {
  url: string;
  gateId: string;
  site?: string;
  issuers: TestIssuer[];
  fleet: TestFleetKey[];
  uploader?: Partial<UploaderOptions>;
  mode?: GateMode;
  /** Reuse a gate's directory (journal, trust file, deny lists): a restart. */
  dir?: string;
  startWallMs?: number;
  /** PEM text: the broker's CA and this gate's client certificate and key, as the daemon reads them from `sync.tls`. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** A SUBACK timeout other than the link's default. */
  subackTimeoutMs?: number;
  /** false: return once the link is started, without waiting for its subscriptions (a broker that never answers them). */
  waitReady?: boolean;
  /** Hold a bank-card revocation list in the gate's directory, as the daemon does: the link subscribes to it and reports its seq. */
  revocations?: boolean;
}

export interface SyncGate extends AssembledGate {
  board: SimBoard;
  link: FleetLink;
  denyList: DenyListStore;
  trust: TrustFile;
  log: RecordingLog;
  dir: string;
  gateId: string;
  options: SyncGateOptions;
  /** Modes set by fleet command, as the app is told of them. */
  commandedModes: string[];
  /** Seconds on the gate's (virtual) clock, for exp and issuedAt. */
  nowSec(): number;
  /** Stop the link (cleanly: offline status), the gate and the journal. */
  stop(): Promise<void>;
  /** Stop and build a new gate on the same directory, as after a restart. */
  restart(): Promise<SyncGate>;
  dispose(): Promise<void>;
}

/** A simulated gate with its FleetLink connected to `url`; its journal, trust file and deny-list store live in a temp dir. */
export async function startSyncGate(options: SyncGateOptions): Promise<SyncGate> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'citygate-sync-'));
  const trustPath = join(dir, 'trust.json');
  if (!existsSync(trustPath)) writeFileSync(trustPath, JSON.stringify(trustListOf(options.issuers, options.fleet.map((key) => key.jwk()))));
  const board = createSimBoard(options.startWallMs ?? START);
  const site = options.site ?? 'site-a';
  const settings: GateSettings & { site: string } = {
    gateId: options.gateId,
    site,
    zone: undefined,
    mode: options.mode ?? 'metro-entry',
    categories: CATEGORIES,
    fares: { default: 200, byCategory: { senior: 0 } },
    ...DEFAULT_TIMINGS,
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
  };
  const log = new RecordingLog();
  const modes: string[] = [];
  const denyList = DenyListStore.open(join(dir, 'denylist'));
  const parts = assembleGate({ board, settings, trust: loadTrustFile(trustPath), denyList, journalPath: join(dir, 'journal.db'), log });
  const trust = new TrustFile(trustPath, parts.journal, parts.decider);
  const revocations = options.revocations ? { revocations: new RevocationFile(join(dir, REVOCATIONS_FILE), parts.decider) } : {};
  const link = new FleetLink(
    { ...parts, ...revocations, denyList, trust, clock: board.clock, gateId: options.gateId, site, skewSec: settings.skewSec, version: '0.1.0-test', log, onModeCommand: (mode) => modes.push(mode) },
    { url: options.url, ...(options.tls ? { tls: options.tls } : {}), uploader: { ...DEFAULT_UPLOADER, ...options.uploader }, maxBackoffMs: 1_000, ...(options.subackTimeoutMs ? { subackTimeoutMs: options.subackTimeoutMs } : {}) },
  );
  // The gate publishes its online status once its subscriptions are in place: a live (not retained) one means it is ready.
  const watcher = mqtt.connect(options.url, { clientId: `ready-${options.gateId}-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 200, ...options.tls });
  let ready = false;
  watcher.on('message', (_topic, payload, packet) => {
    if (!packet.retain && (JSON.parse(payload.toString('utf8')) as { online?: boolean }).online === true) ready = true;
  });
  await waitFor(() => watcher.connected, 'the readiness watcher connected');
  if (options.waitReady !== false) await watcher.subscribeAsync(`citygate/v1/gates/${options.gateId}/status`, { qos: 1 });
  await parts.gate.start();
  link.start();
  if (options.waitReady !== false) await waitFor(() => ready, `${options.gateId} connected and subscribed`);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await watcher.endAsync(true);
    await link.stop();
    await parts.gate.stop();
    parts.journal.close();
    denyList.close();
  };
  return {
    ...parts,
    board,
    link,
    denyList,
    trust,
    log,
    commandedModes: modes,
    dir,
    gateId: options.gateId,
    options,
    nowSec: () => Math.floor(board.clock.now() / 1000),
    stop,
    async restart() {
      await stop();
      return startSyncGate({ ...options, dir, startWallMs: board.clock.now() });
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
