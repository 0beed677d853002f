import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Board } from '../hal/board.js';
import type { CardReaderEvent } from '../hal/cardReader.js';
import type { CodeScannerEvent } from '../hal/codeScanner.js';
import { buildBoard, DeviceStartError, type DriverRegistry, type HealthRelay } from '../src/app/boardBuilder.js';
import { loadBankCardKeys } from '../src/app/bankCardFiles.js';
import { loadConfig, type GateConfig } from '../src/app/config.js';
import { InputError } from '../src/app/settingsSchema.js';
import { dateText } from '../src/core/credentials/emv/cardDate.js';
import { DENY_LIST_FILE, DenyListStore } from '../src/core/denylist/denyListStore.js';
import { Journal } from '../src/core/journal.js';
import { silentLog } from '../src/core/log.js';
import { explainBrokerError } from '../src/core/sync/brokerProblem.js';
import { redactUrl } from '../src/core/sync/brokerUrl.js';
import { journalPathOf } from './gateFiles.js';
import { psamCheck } from './psamCheck.js';
import { accountName } from '../src/app/accountName.js';
import { asOwner, stateOwner } from './serviceUser.js';
import { foreignStateFiles } from './stateFiles.js';
import { CERT_RENEW_DAYS } from '../src/app/deviceCertificate.js';
import { gateStatus } from './status.js';

/** `warn`: to act on soon, but the gate serves (exit 0); `fail`: it must not be put in service (exit 1). */
export type CheckResult = 'pass' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  result: CheckResult;
  detail: string;
}

export interface SelftestOptions {
  /** Click the barrier relays and light every lamp; off by default, since someone may be in the lane. */
  click: boolean;
  /** Wait this long for a card on each reader and report its ATR; 0: don't ask for one. */
  cardWaitMs: number;
  /** How long readers and scanners get to report their health. */
  settleMs: number;
  brokerTimeoutMs: number;
}

const pass = (name: string, detail: string): Check => ({ name, result: 'pass', detail });
const warn = (name: string, detail: string): Check => ({ name, result: 'warn', detail });
const fail = (name: string, detail: string): Check => ({ name, result: 'fail', detail });
const skip = (name: string, detail: string): Check => ({ name, result: 'skip', detail });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The running service holds the deny-list store; devices are then its, not
 * ours to open. Root opens the store as the service (as every state file
 * here), so that what SQLite makes there stays the service's.
 */
function serviceCheck(config: GateConfig): Check {
  const dir = join(config.paths.state, 'denylist');
  if (!existsSync(join(dir, DENY_LIST_FILE))) return pass('service', 'not running (no deny-list store yet)');
  try {
    asOwner(stateOwner(config.paths.state), () => DenyListStore.open(dir).close());
    return pass('service', 'not running: devices are free to check');
  } catch (error) {
    return fail('service', `${(error as Error).message}: stop it first (systemctl stop citygate) so that the devices can be checked`);
  }
}

/** Every file in the state directory is the service's: one a root-run tool left as root's stops the gate. */
function stateFilesCheck(config: GateConfig): Check {
  const dir = config.paths.state;
  if (!existsSync(dir)) return fail('state files', `no state directory ${dir}: run "citygate provision" first`);
  const foreign = foreignStateFiles(dir);
  return foreign ? fail('state files', foreign) : pass('state files', `every file in ${dir} is ${ownerName(dir)}'s`);
}

function ownerName(dir: string): string {
  return accountName(statSync(dir).uid);
}

/**
 * The journal as the gate will use it, written as the service. A journal not
 * made yet is left to the gate's first start: the state directory must then
 * be writable by the service.
 */
function journalCheck(config: GateConfig): Check {
  const dir = config.paths.state;
  const path = journalPathOf(dir);
  return asOwner(stateOwner(dir), () => {
    if (!existsSync(path)) {
      try {
        accessSync(dir, constants.W_OK | constants.X_OK);
        return pass('journal', `none yet: the gate makes ${path} at its first start (${dir} is writable by ${ownerName(dir)})`);
      } catch (error) {
        return fail('journal', `none yet, and the gate cannot make ${path}: ${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    }
    try {
      const journal = Journal.open(path, config.gate.gateId, config.gate.site ?? '');
      try {
        journal.setMetaValue('selftest_at', new Date().toISOString());
        return pass('journal', `writable: ${path}, last seq ${journal.lastTapSeq()}, backlog ${journal.backlog()}`);
      } finally {
        journal.close();
      }
    } catch (error) {
      return fail('journal', `${path}: ${(error as Error).message}`);
    }
  });
}

/** The metrics port must be free for the gate to start: a second gate on one host needs its own. */
async function metricsCheck(config: GateConfig): Promise<Check> {
  const { host, port } = config.metrics;
  if (port === 0) return pass('metrics', `${host}: any free port (logged at start)`);
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    return pass('metrics', `${host}:${port} is free`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'is in use by another gate or program on this host' : `cannot be listened on (${code ?? (error as Error).message})`;
    return fail('metrics', `${host}:${port} ${why}: set another metrics.port in the config (0 takes any free port)`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Health events from a reader or scanner during the settle time: the last one is its state. */
async function watchDevice(name: string, start: (listener: (event: CardReaderEvent | CodeScannerEvent) => void) => Promise<void>, stop: () => Promise<void>, options: SelftestOptions, wantCard: boolean): Promise<Check[]> {
  let health: { healthy: boolean; detail: string } | undefined;
  let atr: Uint8Array | undefined;
  await start((event) => {
    if (event.type === 'health') health = event;
    else if (event.type === 'card-present') {
      atr ??= event.channel.atr;
      void event.channel.release();
    }
  });
  const settleUntil = Date.now() + options.settleMs;
  while (Date.now() < settleUntil && !health) await sleep(50);
  const checks = [health ? (health.healthy ? pass(name, health.detail) : fail(name, health.detail)) : fail(name, `no report within ${options.settleMs} ms`)];
  if (wantCard) {
    const cardUntil = Date.now() + options.cardWaitMs;
    while (Date.now() < cardUntil && !atr) await sleep(50);
    checks.push(atr ? pass(`${name} card`, `a card answered, ATR ${Buffer.from(atr).toString('hex')}`) : fail(`${name} card`, `no card presented within ${options.cardWaitMs} ms`));
  }
  await stop();
  return checks;
}

async function deviceChecks(board: Board, health: HealthRelay, options: SelftestOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const reports = new Map<string, { healthy: boolean; detail: string }>();
  health.attach((device, healthy, detail) => reports.set(device, { healthy, detail }));
  const clockReport = reports.get('clock');
  checks.push(board.clock.trusted() ? pass('clock', `trusted, ${new Date(board.clock.now()).toISOString()}`) : fail('clock', clockReport?.detail ?? 'wall time is not trusted'));
  for (const [i, reader] of board.readers.entries()) {
    checks.push(...(await watchDevice(`reader:${i}`, (l) => reader.start(l), () => reader.stop(), options, options.cardWaitMs > 0)));
  }
  for (const [i, scanner] of board.scanners.entries()) {
    checks.push(...(await watchDevice(`scanner:${i}`, (l) => scanner.start(l), () => scanner.stop(), options, false)));
  }
  let passages = 0;
  await board.passage.start(() => passages++);
  await board.display.show([{ zh: '自检', en: 'Self-test' }]);
  checks.push(pass('display', 'the self-test screen was sent: check that it reads 自检 / Self-test'));
  if (options.click) {
    await board.barrier.open();
    await sleep(500);
    await board.barrier.close();
    checks.push(pass('barrier', 'opened for 0.5 s and closed: check that the relays clicked'));
    for (const colour of ['green', 'red', 'amber', 'white'] as const) {
      await board.indicators.light(colour);
      await sleep(300);
    }
    await board.indicators.light('off');
    await board.indicators.tone('attention');
    checks.push(pass('indicators', 'green, red, amber, white lit in turn, then one long beep'));
  } else {
    checks.push(skip('barrier', 'not clicked: run with --click when the lane is clear'), skip('indicators', 'not lit: run with --click'));
  }
  await board.passage.stop();
  checks.push(pass('passage', `sensors started; ${passages} passage(s) seen during the test`));
  for (const [device, report] of reports) {
    if (device !== 'clock' && !report.healthy) checks.push(fail(device, report.detail));
  }
  return checks;
}

/** Bank cards: the CA keys (every checksum) and the token key load as the gate will load them at start. */
function bankCardCheck(config: GateConfig): Check | undefined {
  if (!config.gate.cards?.applications.includes('qpboc')) return undefined;
  try {
    const keys = loadBankCardKeys(config.paths)!;
    const today = new Date().toISOString().slice(0, 10);
    const expired = keys.capk.keys().filter((key) => dateText(key.expiry) < today);
    const detail = `${keys.capk.size} CA public key${keys.capk.size === 1 ? '' : 's'} in ${config.paths.capk}, token key in ${config.paths.tokenKey}`;
    if (expired.length > 0) return fail('bank cards', `${detail}; expired: ${expired.map((key) => `${key.rid} ${key.index} (${dateText(key.expiry)})`).join(', ')}`);
    return pass('bank cards', detail);
  } catch (error) {
    if (error instanceof InputError) return fail('bank cards', error.message);
    throw error;
  }
}

async function brokerCheck(config: GateConfig, options: SelftestOptions): Promise<Check> {
  const sync = config.sync;
  if (!sync) return skip('broker', 'no sync section: the gate runs offline');
  const { readFileSync } = await import('node:fs');
  try {
    const tls = sync.tls ? { ca: sync.tls.ca && readFileSync(sync.tls.ca), cert: sync.tls.cert && readFileSync(sync.tls.cert), key: sync.tls.key && readFileSync(sync.tls.key) } : {};
    const client = await Promise.race([
      mqtt.connectAsync(sync.broker, { clientId: `citygate-selftest-${config.gate.gateId}`, reconnectPeriod: 0, connectTimeout: options.brokerTimeoutMs, ...tls }),
      sleep(options.brokerTimeoutMs).then(() => {
        throw new Error(`no answer within ${options.brokerTimeoutMs} ms`);
      }),
    ]);
    await client.endAsync();
    return pass('broker', `${redactUrl(sync.broker)} accepted the connection${sync.tls?.cert ? ' with the device certificate' : ''}`);
  } catch (error) {
    // In the words the gate's own link uses (a TLS refusal explained, not OpenSSL's text).
    const code = (error as NodeJS.ErrnoException).code;
    const text = code === 'ENOENT' || code === 'EACCES' ? (error as Error).message : explainBrokerError(error, sync.broker, { files: sync.tls ?? {} }, Date.now()).text;
    return fail('broker', `${redactUrl(sync.broker)}: ${text}`);
  }
}

/**
 * `citygate selftest`: everything a gate needs, checked in place — files,
 * disk, trust list, certificate, journal, each configured device, clock and
 * broker. A device check opens the device, so the service must be stopped.
 */
export async function selftest(configPath: string, registry: DriverRegistry, options: SelftestOptions): Promise<Check[]> {
  // The config and every device entry checked as status and run check them, before anything is touched.
  const status = gateStatus(configPath, new Date(), registry);
  const config = loadConfig(configPath);
  const checks: Check[] = [];
  checks.push(status.problems.some((p) => p.startsWith('disk')) ? fail('disk', status.problems.find((p) => p.startsWith('disk'))!) : pass('disk', `${Math.floor(status.disk.freeBytes / 1048576)} MiB free in ${status.disk.path}`));
  const trustProblem = status.problems.find((p) => p.startsWith('trust'));
  checks.push(trustProblem ? fail('trust list', trustProblem) : pass('trust list', `${config.paths.trust}`));
  const certificateProblem = status.problems.find((p) => p.startsWith('certificate'));
  const certificateWarning = status.warnings.find((p) => p.startsWith('certificate'));
  if (certificateProblem) checks.push(fail('certificate', certificateProblem));
  else if (certificateWarning) checks.push(warn('certificate', `${certificateWarning} (warned within ${CERT_RENEW_DAYS} days of its end)`));
  else if ('subject' in status.certificate) checks.push(pass('certificate', `${status.certificate.subject}, valid to ${status.certificate.validTo}`));
  const bank = bankCardCheck(config);
  if (bank) checks.push(bank);
  const service = serviceCheck(config);
  checks.push(service);
  if (service.result === 'fail') return checks;
  checks.push(stateFilesCheck(config));
  checks.push(journalCheck(config));
  checks.push(await metricsCheck(config));
  try {
    const { board, problems, health } = await buildBoard(config, registry, silentLog, configPath);
    for (const problem of problems) checks.push(fail(problem.device, problem.detail));
    checks.push(...(await deviceChecks(board, health, options)));
    const psam = await psamCheck(config, board.sam, options.settleMs);
    if (psam) checks.push(psam);
  } catch (error) {
    if (!(error instanceof DeviceStartError)) throw error;
    checks.push(fail('devices', error.message));
  }
  checks.push(await brokerCheck(config, options));
  return checks;
}

export function selftestTable(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => `${c.result.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
  const failed = checks.filter((c) => c.result === 'fail').length;
  const warned = checks.filter((c) => c.result === 'warn').length;
  const warnings = warned === 0 ? '' : ` with ${warned} warning(s)`;
  lines.push(failed === 0 ? `selftest passed${warnings}` : `selftest failed: ${failed} check(s)`);
  return `${lines.join('\n')}\n`;
}
