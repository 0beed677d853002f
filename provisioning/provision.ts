import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadCapkFile, loadTokenKey } from '../src/app/bankCardFiles.js';
import type { DriverRegistry } from '../src/app/boardBuilder.js';
import { configSchema } from '../src/app/config.js';
import { writeCheckedConfig } from './configFile.js';
import { InputError, parseWith } from '../src/app/settingsSchema.js';
import { gateFiles, type GateFiles } from './gateFiles.js';
import { journalGate } from './journalOwner.js';
import { readInputJson, readInputText } from '../src/app/inputFile.js';
import { answerChecks, readDevices } from './answerChecks.js';
import { makeCsr, makeDeviceKey } from './deviceKey.js';
import { makeDirectory, refuseLinks, writeWhole } from './privateFile.js';
import { checkAnswers, type AnswerChecks, type ProvisionAnswers } from './provisionAnswers.js';
import { asOwner, giveTo, ownerOf, serviceOwner, type Owner } from './serviceUser.js';
import { trustWithFleetKey } from './trustMerge.js';

export interface ProvisionPlace {
  /** Prefix of the default directories; `/` on a gate, a temporary directory in tests. */
  root: string;
  configDir: string | undefined;
  stateDir: string | undefined;
  force: boolean;
  /** The service's account, which must read the device key and write the state. */
  user: string;
  /** Broker CA certificate (PEM) to install now; it can also come with install-cert. */
  ca: string | undefined;
  /** Allow a broker without TLS (mqtt://, ws://), for a lab broker only. */
  allowPlainBroker: boolean;
  /** Bank cards: the CA public key file and the fleet's card token key to install; both or neither. */
  bank?: { capk: string | undefined; tokenKey: string | undefined };
}

export function readCertificateFile(path: string, what: string): { text: string; certificate: X509Certificate } {
  const text = readInputText(path, what);
  try {
    return { text, certificate: new X509Certificate(text) };
  } catch (error) {
    throw new InputError(`${what} ${path} is not a PEM certificate: ${(error as Error).message}`);
  }
}

/** The bank-card files, checked as the gate will read them, before anything is written. */
function bankCardFiles(bank: ProvisionPlace['bank'], configDir: string): { capkPath: string; capkText: string; tokenKeyPath: string; tokenKeyText: string } | undefined {
  if (bank?.capk === undefined && bank?.tokenKey === undefined) return undefined;
  if (bank.capk === undefined || bank.tokenKey === undefined) throw new InputError('bank cards need both --capk (the CA public keys) and --token-key (the fleet\'s card token key)');
  loadCapkFile(bank.capk);
  loadTokenKey(bank.tokenKey);
  return {
    capkPath: join(configDir, 'capk.json'),
    capkText: readInputText(bank.capk, 'CA public keys'),
    tokenKeyPath: join(configDir, 'card-token.key'),
    tokenKeyText: readInputText(bank.tokenKey, 'card token key'),
  };
}

/** A provisioned gate is not replaced by accident: said before a single question is asked. */
function refuseProvisioned(files: GateFiles, force: boolean): void {
  if (!existsSync(files.config) || force) return;
  let held = '';
  try {
    const old = readInputJson(files.config, 'config') as { gate?: { id?: unknown; site?: unknown } };
    held = ` as gate ${String(old.gate?.id)} of site ${String(old.gate?.site)}`;
  } catch {
    held = '';
  }
  throw new InputError(
    `${files.config} exists: this board is already provisioned${held}. To provision it again (a new device key, so the certificate must be signed again) run the same command with --force`,
  );
}

/**
 * The gate of the journal already in the state directory. The directory is
 * the service's: root reads it as the service (SQLite opens a database through
 * a link), and a journal file that is a link is refused.
 */
function existingJournalGate(files: GateFiles): string | undefined {
  if (!existsSync(files.stateDir)) return undefined;
  refuseLinks([files.stateDir, files.journal, `${files.journal}-wal`, `${files.journal}-shm`]);
  return asOwner(ownerOf(files.stateDir), () => journalGate(files.journal));
}

/** Where and how a board is provisioned, checked before a single question is asked; and the checks of the answers. */
export interface ProvisionPlan {
  place: ProvisionPlace;
  files: GateFiles;
  bank: ReturnType<typeof bankCardFiles>;
  ca: string | undefined;
  owner: Owner | undefined;
  registry: DriverRegistry;
  checks: AnswerChecks;
}

/**
 * Everything that comes from flags only (the board not provisioned yet
 * unless --force, the service's account, the bank-card files, the CA) is
 * checked here, before any question: a technician never answers every
 * prompt to be refused for something no answer can mend.
 */
export function planProvision(place: ProvisionPlace, registry: DriverRegistry): ProvisionPlan {
  const files = gateFiles(place.configDir ?? join(place.root, 'etc', 'citygate'), place.stateDir ?? join(place.root, 'var', 'lib', 'citygate'));
  refuseProvisioned(files, place.force);
  const owner = serviceOwner(place.user);
  const bank = bankCardFiles(place.bank, files.configDir);
  const ca = place.ca ? readCertificateFile(place.ca, 'CA certificate').text : undefined;
  const checks = answerChecks({ allowPlainBroker: place.allowPlainBroker, registry, journalGate: () => existingJournalGate(files), journalPath: files.journal });
  return { place, files, bank, ca, owner, registry, checks };
}

export interface Provisioned {
  files: GateFiles;
  caInstalled: boolean;
}

/** Write the gate's files: every answer and then the whole config are checked before anything is written. */
export function provision(answers: ProvisionAnswers, plan: ProvisionPlan): Provisioned {
  checkAnswers(answers, plan.checks);
  const { files, bank, ca, owner } = plan;
  const gate = {
    id: answers.gateId,
    site: answers.site,
    ...(answers.zone ? { zone: answers.zone } : {}),
    mode: answers.mode,
    // A gate given the CA keys takes bank cards first; UID badges stay where the access section allows them.
    ...(bank ? { cards: { applications: ['qpboc', 'cg', 'uid'] } } : {}),
  };
  const config = {
    gate,
    paths: { state: files.stateDir, trust: files.trust, ...(bank ? { capk: bank.capkPath, tokenKey: bank.tokenKeyPath } : {}) },
    sync: { broker: answers.broker, tls: { key: files.deviceKey, ...(ca ? { ca: files.brokerCa } : {}) } },
    devices: readDevices(answers.devices, plan.registry),
    log: { level: 'info' },
    // Written out, so that a second gate on one host shows which setting to change.
    metrics: configSchema.shape.metrics.parse(undefined),
  };
  parseWith(configSchema, config, '--gate-id/--site/--zone/--mode/--broker');
  const trust = trustWithFleetKey(answers.trust, answers.fleetKey);

  mkdirSync(files.configDir, { recursive: true, mode: 0o755 });
  // Parents as the system has them; the state itself is the service's alone (StateDirectoryMode=0750), never a link.
  makeDirectory(files.stateDir, 0o750, { owner, enforceMode: true });
  const key = makeDeviceKey(files.deviceKey);
  giveTo(owner, files.deviceKey);
  // openssl keeps the mode of a file it overwrites: the request is made anew, then written whole with its own mode.
  rmSync(files.deviceCsr, { force: true });
  makeCsr(files.deviceKey, key, answers.gateId, files.deviceCsr);
  writeWhole(files.deviceCsr, readFileSync(files.deviceCsr, 'utf8'));
  // A certificate of an earlier key no longer fits: it must be signed again.
  rmSync(files.deviceCert, { force: true });
  if (ca) writeWhole(files.brokerCa, ca);
  if (bank) {
    writeWhole(bank.capkPath, bank.capkText);
    writeWhole(bank.tokenKeyPath, bank.tokenKeyText, 0o600, owner);
  }
  // In the service's directory: made under a fresh name, given to the service on its descriptor, renamed over whatever had its name.
  writeWhole(files.trust, `${JSON.stringify(trust, null, 2)}\n`, 0o644, owner);
  writeCheckedConfig(files.config, config);
  return { files, caInstalled: ca !== undefined };
}
