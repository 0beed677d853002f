import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { DenyListStore } from '../core/denylist/denyListStore.js';
import { redactUrl } from '../core/sync/brokerUrl.js';
import { FleetLink } from '../core/sync/fleetLink.js';
import { topicSafe } from '../core/sync/topics.js';
import { assembleGate, type AssembledGate } from './assemble.js';
import { loadBankCardKeys } from './bankCardFiles.js';
import { buildBoard, checkDevices, type DriverRegistry } from './boardBuilder.js';
import { loadConfig, type GateConfig } from './config.js';
import { deviceCertificateStanding } from './deviceCertificate.js';
import { siteAuthentication } from './siteAuthentication.js';
import { InputError } from './settingsSchema.js';
import { readInputText } from './inputFile.js';
import { openOnStateDisk, stateAccessProblem, stateDiskProblem } from './stateDisk.js';
import { feedLocations } from './locationFeed.js';
import { GateMetrics } from './metrics.js';
import { modeOverride, saveModeOverride } from './modeOverride.js';
import { RevocationFile, REVOCATIONS_FILE } from './revocationFile.js';
import { loadTrustFile, TrustFile } from './trustFile.js';
import { VERSION } from './version.js';

export interface RunningGate extends AssembledGate {
  config: GateConfig;
  denyList: DenyListStore;
  fleet: FleetLink | undefined;
  metrics: GateMetrics;
  log: pino.Logger;
  /** Stop taking taps, publish offline, close the journal: nothing accepted is lost. */
  stop(): Promise<void>;
}

function readPem(path: string | undefined, what: string): string | undefined {
  return path === undefined ? undefined : readInputText(path, what);
}

/**
 * `citygate run --config FILE`: the gate as a service. Board from the
 * config's drivers, journal and deny list in the state directory, the trust
 * list file, and the fleet link when a broker is configured.
 */
export async function startGate(configPath: string, registry: DriverRegistry, env: NodeJS.ProcessEnv = process.env): Promise<RunningGate> {
  const config = loadConfig(configPath, env);
  // The same check as selftest and status, before anything is opened.
  checkDevices(config.devices, registry, configPath);
  const settings = config.gate;
  const site = settings.site!;
  if (!topicSafe(settings.gateId) || !topicSafe(site)) throw new InputError(`${configPath}: gate.id and gate.site may not contain / + # (they are MQTT topic levels)`);
  const log = pino({ level: config.log.level, base: { gate: settings.gateId } }, pino.destination(1));
  const state = config.paths.state;
  try {
    mkdirSync(join(state, 'denylist'), { recursive: true });
  } catch (error) {
    throw new InputError(`cannot create the state directory ${state}: ${stateDiskProblem(state) ?? (error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const tls = config.sync?.tls ? { ca: readPem(config.sync.tls.ca, 'CA certificate'), cert: readPem(config.sync.tls.cert, 'client certificate'), key: readPem(config.sync.tls.key, 'client key') } : undefined;
  const siteAuth = siteAuthentication({ ...tls, deviceCa: readPem(config.sync?.tls?.deviceCa, 'device CA certificate') }, () => board.clock.now());
  const { board, problems, health, locations } = await buildBoard(config, registry, log, configPath);
  const denyList = openOnStateDisk(state, () => DenyListStore.open(join(state, 'denylist')));
  const trustList = loadTrustFile(config.paths.trust);
  const bank = settings.cards?.applications.includes('qpboc') ? loadBankCardKeys(config.paths) : undefined;
  const journalPath = join(state, 'journal.db');
  const parts = openOnStateDisk(state, () => assembleGate({ board, settings: { ...settings, site }, trust: trustList, bank, denyList, journalPath, log }));
  const trust = new TrustFile(config.paths.trust, parts.journal, parts.decider);
  const revocations = new RevocationFile(join(state, REVOCATIONS_FILE), parts.decider);
  const commandedMode = modeOverride(parts.journal, settings.mode);
  if (commandedMode) {
    log.info({ mode: commandedMode, config: settings.mode }, 'mode set by fleet command kept from before the restart');
    parts.gate.setMode(commandedMode);
  }
  const metrics = new GateMetrics({ gate: parts.gate, journal: parts.journal, denyList });
  try {
    await metrics.listen(config.metrics.host, config.metrics.port, log);
  } catch (error) {
    parts.journal.close();
    denyList.close();
    await (board.display as { close?: () => Promise<void> }).close?.();
    throw error instanceof InputError ? new InputError(`${configPath}: ${error.message}`) : error;
  }
  // Opened, but a file a root-run tool left behind would fail a later write (a trust-list update): say which now.
  const unwritable = stateAccessProblem(state);
  if (unwritable) log.warn({ problem: unwritable }, 'state directory not all writable');
  // One JSON line per tap in the service log, for journald and for whoever watches a simulated gate.
  parts.gate.onOutcome((outcome) => {
    if (outcome.type === 'tap') log.info({ tap: outcome.tap }, 'tap');
    // SQLite names neither the file nor why: the journal's path and what is wrong with its disk or its owner go with it.
    else if (outcome.type === 'unjournaled') log.error({ draft: outcome.draft, err: outcome.error, journal: journalPath, problem: stateDiskProblem(state) ?? null }, 'tap not journaled');
  });
  await parts.gate.start();
  for (const problem of problems) parts.gate.reportDevice(problem.device, false, problem.detail);
  health.attach((device, healthy, detail) => parts.gate.reportDevice(device, healthy, detail));
  const stopLocations = await feedLocations(locations, parts.decider, parts.gate, log);
  let fleet: FleetLink | undefined;
  // An expired certificate is said in words at start, not only in the broker's refusals; the gate serves offline all the same.
  const certPath = config.sync?.tls?.cert;
  const certificate = tls?.cert !== undefined && certPath !== undefined ? deviceCertificateStanding({ cert: tls.cert, key: tls.key }, { cert: certPath, key: config.sync?.tls?.key }, board.clock.now(), board.clock.trusted()) : undefined;
  if (certificate && certificate.level !== 'ok') log[certificate.level]({ cert: certPath }, certificate.text);
  if (config.sync) {
    const sync = config.sync;
    fleet = new FleetLink(
      { gate: parts.gate, journal: parts.journal, replay: parts.replay, denyList, trust, revocations, clock: board.clock, gateId: settings.gateId, site, skewSec: settings.skewSec, version: VERSION, log, onModeCommand: (mode) => saveModeOverride(parts.journal, config.gate.mode, mode), ...(siteAuth ? { siteAuth } : {}) },
      { url: sync.broker, ...(tls ? { tls, tlsFiles: sync.tls } : {}), retentionDays: sync.retentionDays, uploader: { batchSize: sync.batchSize, window: sync.window, ackTimeoutMs: sync.ackTimeoutMs } },
    );
    fleet.start();
  }
  log.info({ mode: parts.gate.mode(), site, readers: board.readers.length, scanners: board.scanners.length, problems: problems.length, broker: config.sync ? redactUrl(config.sync.broker) : null, certificate: certificate?.summary ?? null }, 'gate ready');
  let stopping: Promise<void> | undefined;
  return {
    ...parts,
    config,
    denyList,
    fleet,
    metrics,
    log,
    stop() {
      stopping ??= (async () => {
        // Each part is closed even if one before it fails (a read-only card): the journal above all.
        const failures: string[] = [];
        const step = async (part: string, close: () => unknown) => {
          try {
            await close();
          } catch (error) {
            failures.push(`${part}: ${(error as Error).message}`);
          }
        };
        await step('gate', () => parts.gate.stop());
        await step('location feed', stopLocations);
        await step('fleet link', () => fleet?.stop());
        // The OLED turns the pages of a long screen on a timer, which would hold the process for ever.
        await step('display', () => (board.display as { close?: () => Promise<void> }).close?.());
        await step('metrics', () => metrics.close());
        await step('journal', () => parts.journal.close());
        await step('deny list', () => denyList.close());
        if (failures.length > 0) log.error({ failures }, 'gate stopped with failures');
        else log.info({}, 'gate stopped');
        log.flush();
        if (failures.length > 0) throw new Error(failures.join('; '));
      })();
      return stopping;
    },
  };
}
