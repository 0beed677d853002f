import { join } from 'node:path';

/**
 * Where a provisioned gate keeps its files. The config directory is read-only
 * to the service (ProtectSystem=strict); everything the gate itself rewrites
 * (journal, trust list updated by the fleet) lives in the state directory.
 */
export interface GateFiles {
  configDir: string;
  stateDir: string;
  config: string;
  /** The device's own private key (PEM, PKCS#8, mode 0600): the MQTT TLS client key. */
  deviceKey: string;
  /** The certificate signing request sent to fleet ops for the client certificate. */
  deviceCsr: string;
  deviceCert: string;
  brokerCa: string;
  trust: string;
  journal: string;
}

export const CONFIG_FILE = 'config.json';
export const JOURNAL_FILE = 'journal.db';

export function gateFiles(configDir: string, stateDir: string): GateFiles {
  return {
    configDir,
    stateDir,
    config: join(configDir, CONFIG_FILE),
    deviceKey: join(configDir, 'device-key.pem'),
    deviceCsr: join(configDir, 'device.csr'),
    deviceCert: join(configDir, 'device-cert.pem'),
    brokerCa: join(configDir, 'broker-ca.pem'),
    trust: join(stateDir, 'trust.json'),
    journal: join(stateDir, JOURNAL_FILE),
  };
}

/** The journal of a gate whose config names `stateDir`; the daemon opens the same file. */
export function journalPathOf(stateDir: string): string {
  return join(stateDir, JOURNAL_FILE);
}
