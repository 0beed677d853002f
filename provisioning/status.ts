import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkDevices, type DriverRegistry } from '../src/app/boardBuilder.js';
import { loadConfig, type GateConfig } from '../src/app/config.js';
import { loadRevocationFile, REVOCATIONS_FILE } from '../src/app/revocationFile.js';
import { loadTrustFile } from '../src/app/trustFile.js';
import { trustListSchema } from '../src/core/credentials/trustList.js';
import { DENY_LIST_FILE, DenyListStore } from '../src/core/denylist/denyListStore.js';
import { Journal } from '../src/core/journal.js';
import { readDeviceKey } from './deviceKey.js';
import { journalPathOf } from './gateFiles.js';
import { readInputJson } from '../src/app/inputFile.js';
import { asOwner, stateOwner } from './serviceUser.js';
import { foreignStateFiles } from './stateFiles.js';
import { CERT_RENEW_DAYS } from '../src/app/deviceCertificate.js';

/** Below this much free space in the state directory, the journal and deny lists are at risk. */
const LOW_DISK_BYTES = 200 * 1024 * 1024;

export interface KeyStatus {
  kid: string;
  alg: string;
  nbf: string | null;
  exp: string | null;
  state: 'in force' | 'not yet in force' | 'retired';
}

/** What a technician reads on site, from the files alone: the daemon need not be running. */
export interface GateStatus {
  config: string;
  gate: { id: string; site: string | undefined; zone: string | undefined; mode: string };
  journal: { path: string; lastSeq: number; lastTapAt: string | null; deliveredSeq: number; backlog: number; trustListSeq: number } | { path: string; note: string };
  disk: { path: string; freeBytes: number; totalBytes: number };
  denyList: { seqs: Record<string, number> } | { note: string };
  trust: { path: string; issuers: { id: string; keys: KeyStatus[] }[]; fleet: KeyStatus[] } | { path: string; note: string };
  /** The bank-card revocation list the fleet last sent; `exp` (epoch s) ends when its message may be applied, not what it revokes. */
  revocations: { path: string; seq: number; entries: number; exp: number } | { path: string; note: string };
  certificate: { path: string; subject: string; validTo: string; matchesKey: boolean } | { note: string };
  broker: string | null;
  /** Everything above that needs a technician's action; empty when the gate is fit to serve. */
  problems: string[];
  /** To act on soon, while the gate still serves (a certificate near its end). */
  warnings: string[];
}

function keyStatus(jwk: { kid: string; alg: string; nbf?: number | undefined; exp?: number | undefined }, nowSec: number): KeyStatus {
  const iso = (sec: number | undefined) => (sec === undefined ? null : new Date(sec * 1000).toISOString());
  const state = jwk.nbf !== undefined && nowSec < jwk.nbf ? 'not yet in force' : jwk.exp !== undefined && nowSec >= jwk.exp ? 'retired' : 'in force';
  return { kid: jwk.kid, alg: jwk.alg, nbf: iso(jwk.nbf), exp: iso(jwk.exp), state };
}

function journalStatus(config: GateConfig, problems: string[]): GateStatus['journal'] {
  const path = journalPathOf(config.paths.state);
  if (!existsSync(path)) return { path, note: 'no journal yet: the gate has not run' };
  try {
    const journal = Journal.open(path, config.gate.gateId, config.gate.site ?? '');
    try {
      return {
        path,
        lastSeq: journal.lastTapSeq(),
        lastTapAt: journal.lastTapAt() ?? null,
        deliveredSeq: journal.deliveredSeq(),
        backlog: journal.backlog(),
        trustListSeq: Number(journal.metaValue('trust_seq') ?? 0),
      };
    } finally {
      journal.close();
    }
  } catch (error) {
    problems.push(`journal: ${(error as Error).message}`);
    return { path, note: 'unreadable' };
  }
}

function trustStatus(path: string, nowSec: number, problems: string[]): GateStatus['trust'] {
  try {
    loadTrustFile(path);
    const document = trustListSchema.parse(readInputJson(path, 'trust list'));
    const issuers = document.issuers.map((issuer) => ({ id: issuer.id, keys: issuer.keys.map((key) => keyStatus(key, nowSec)) }));
    const fleet = document.fleet.map((key) => keyStatus(key, nowSec));
    for (const issuer of issuers) {
      if (!issuer.keys.some((key) => key.state === 'in force')) problems.push(`trust list: issuer ${issuer.id} has no key in force: its codes and cards are refused`);
    }
    if (!fleet.some((key) => key.state === 'in force')) problems.push('trust list: no fleet-ops key in force: deny lists, commands and trust updates are refused');
    return { path, issuers, fleet };
  } catch (error) {
    problems.push(`trust list: ${(error as Error).message}`);
    return { path, note: 'unreadable' };
  }
}

function revocationStatus(stateDir: string, problems: string[]): GateStatus['revocations'] {
  const path = join(stateDir, REVOCATIONS_FILE);
  if (!existsSync(path)) return { path, note: 'none received yet' };
  try {
    const held = loadRevocationFile(path);
    return { path, seq: held.seq, entries: held.list.entries.length, exp: held.exp };
  } catch (error) {
    problems.push(`revocation list: ${(error as Error).message}: the gate will not start`);
    return { path, note: 'unreadable' };
  }
}

function certificateStatus(config: GateConfig, now: Date, problems: string[], warnings: string[]): GateStatus['certificate'] {
  const tls = config.sync?.tls;
  if (!config.sync) return { note: 'no fleet sync configured' };
  if (!tls?.cert) {
    problems.push(`certificate: none installed: send ${tls?.key ? join(dirname(tls.key), 'device.csr') : 'the CSR'} to fleet ops, then run "citygate provision install-cert --cert FILE"`);
    return { note: 'not installed' };
  }
  try {
    const certificate = new X509Certificate(readFileSync(tls.cert));
    const matchesKey = tls.key ? certificate.checkPrivateKey(readDeviceKey(tls.key)) : false;
    if (!matchesKey) problems.push(`certificate: ${tls.cert} is not for the device key ${tls.key ?? '(none configured)'}`);
    const validTo = new Date(certificate.validTo);
    const validFrom = new Date(certificate.validFrom);
    const days = Math.floor((validTo.getTime() - now.getTime()) / 86_400_000);
    if (validTo <= now) problems.push(`certificate: expired on ${validTo.toISOString()}: have it signed again (or check the clock: date -u)`);
    else if (validFrom > now) problems.push(`certificate: not valid before ${validFrom.toISOString()}: check the clock (date -u)`);
    else if (days < CERT_RENEW_DAYS) warnings.push(`certificate: expires on ${validTo.toISOString()}, in ${days} day(s): have it renewed`);
    return { path: tls.cert, subject: certificate.subject, validTo: validTo.toISOString(), matchesKey };
  } catch (error) {
    problems.push(`certificate: ${(error as Error).message}`);
    return { note: 'unreadable' };
  }
}

/** Where the daemon keeps its deny-list store (src/app/daemon.ts). */
const DENY_LIST_DIR = 'denylist';

function denyListStatus(stateDir: string): GateStatus['denyList'] {
  const dir = join(stateDir, DENY_LIST_DIR);
  if (!existsSync(join(dir, DENY_LIST_FILE))) return { note: 'no deny lists received yet' };
  try {
    const store = DenyListStore.open(dir);
    try {
      return { seqs: store.seqs() };
    } finally {
      store.close();
    }
  } catch (error) {
    // The running gate holds the store exclusively; its seqs are in its MQTT status and metrics.
    return { note: (error as Error).message };
  }
}

/**
 * Read a gate's state from its config and files. A config that does not load
 * is an InputError (exit 2); with the driver registry, so is a device entry
 * its driver refuses, as run and selftest refuse it. Root reads the state as
 * the service, so that whatever SQLite makes there (WAL files) is the service's.
 */
export function gateStatus(configPath: string, now = new Date(), registry?: DriverRegistry): GateStatus {
  const config = loadConfig(configPath);
  if (registry) checkDevices(config.devices, registry, configPath);
  const problems: string[] = [];
  const warnings: string[] = [];
  const stateDir = config.paths.state;
  let disk: GateStatus['disk'] = { path: stateDir, freeBytes: 0, totalBytes: 0 };
  try {
    const fs = statfsSync(stateDir);
    disk = { path: stateDir, freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize };
    if (disk.freeBytes < LOW_DISK_BYTES) problems.push(`disk: only ${Math.floor(disk.freeBytes / 1048576)} MiB free in ${stateDir}`);
  } catch (error) {
    problems.push(`state directory ${stateDir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const foreign = foreignStateFiles(stateDir);
  if (foreign) problems.push(`state directory: ${foreign}`);
  const owner = stateOwner(stateDir);
  const journal = asOwner(owner, () => journalStatus(config, problems));
  const denyList = asOwner(owner, () => denyListStatus(stateDir));
  const nowSec = Math.floor(now.getTime() / 1000);
  return {
    config: configPath,
    gate: { id: config.gate.gateId, site: config.gate.site, zone: config.gate.zone, mode: config.gate.mode },
    journal,
    disk,
    denyList,
    trust: trustStatus(config.paths.trust, nowSec, problems),
    revocations: revocationStatus(stateDir, problems),
    certificate: certificateStatus(config, now, problems, warnings),
    broker: config.sync?.broker ?? null,
    problems,
    warnings,
  };
}
