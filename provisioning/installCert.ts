import { dirname, join } from 'node:path';
import { loadConfig } from '../src/app/config.js';
import { InputError } from '../src/app/settingsSchema.js';
import { writeCheckedConfig } from './configFile.js';
import { readDeviceKey } from './deviceKey.js';
import { readInputJson } from '../src/app/inputFile.js';
import { writeWhole } from './privateFile.js';
import { readCertificateFile } from './provision.js';

export interface InstallCertOptions {
  config: string;
  cert: string;
  ca: string | undefined;
}

export interface InstalledCert {
  cert: string;
  ca: string | undefined;
  subject: string;
  validTo: string;
  /** Said, not refused: a board without a real-time clock may not know the date yet. */
  warnings: string[];
}

/**
 * Install the client certificate fleet ops signed from this gate's CSR: it
 * must be for the device key and name the gate; then the config points at it.
 */
export function installCert(options: InstallCertOptions, now = new Date()): InstalledCert {
  const config = loadConfig(options.config, {});
  const keyPath = config.sync?.tls?.key;
  if (!config.sync || !keyPath) throw new InputError(`${options.config}: sync.tls.key: no device key configured (provision the gate first)`);
  const key = readDeviceKey(keyPath);
  const { text, certificate } = readCertificateFile(options.cert, 'certificate');
  if (!certificate.checkPrivateKey(key)) {
    throw new InputError(`${options.cert} is for another key than the device key ${keyPath}: sign this gate's own request (device.csr in ${dirname(keyPath)})`);
  }
  const gateId = config.gate.gateId;
  if (!certificate.subject.split('\n').includes(`CN=${gateId}`)) {
    throw new InputError(`${options.cert} names ${JSON.stringify(certificate.subject)}, not CN=${gateId}: the broker would take this gate for another`);
  }
  const warnings: string[] = [];
  if (now < new Date(certificate.validFrom)) warnings.push(`the certificate is valid only from ${certificate.validFrom}: check the clock (date -u)`);
  if (now > new Date(certificate.validTo)) warnings.push(`the certificate expired on ${certificate.validTo}: check the clock, or have it signed again`);

  const configDir = dirname(options.config);
  const certPath = join(configDir, 'device-cert.pem');
  const ca = options.ca ? readCertificateFile(options.ca, 'CA certificate') : undefined;
  if (ca && !(certificate.checkIssued(ca.certificate) && certificate.verify(ca.certificate.publicKey))) {
    warnings.push(`${options.ca} did not sign this certificate; it is installed as the broker's CA all the same`);
  }
  const caPath = ca ? join(configDir, 'broker-ca.pem') : config.sync.tls?.ca;

  // Rewrite the file as written, not as loaded: defaults and environment overrides stay out of it.
  const document = readInputJson(options.config, 'config') as { sync: { tls?: Record<string, string> } };
  document.sync.tls = { ...document.sync.tls, key: keyPath, cert: certPath, ...(caPath ? { ca: caPath } : {}) };
  writeWhole(certPath, text);
  if (ca) writeWhole(caPath!, ca.text);
  writeCheckedConfig(options.config, document);
  return { cert: certPath, ca: caPath, subject: certificate.subject, validTo: certificate.validTo, warnings };
}
