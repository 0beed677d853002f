import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError } from '../src/app/settingsSchema.js';
import { writePrivateFile } from './privateFile.js';

/*
 * The gate's own identity on the fleet's broker: an ECDSA P-256 key pair made
 * on the device (the private key never leaves it) and a PKCS#10 request with
 * CN = gate id, which fleet ops sign into the MQTT TLS client certificate.
 * Node cannot make a CSR, so openssl (always on Debian) does, and is checked.
 */

export function makeDeviceKey(path: string): KeyObject {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writePrivateFile(path, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  return privateKey;
}

export function readDeviceKey(path: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read the device key ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (run "citygate provision" first)`);
  }
  try {
    return createPrivateKey(text);
  } catch (error) {
    throw new InputError(`${path}: not a usable private key: ${(error as Error).message}`);
  }
}

/** An openssl -subj value: `\`, `/` and `+` would otherwise end or split the name. */
function subjectOf(gateId: string): string {
  return `/CN=${gateId.replace(/[\\/+]/g, (c) => `\\${c}`)}`;
}

function openssl(args: string[]): string {
  try {
    return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new InputError('openssl is not installed: apt-get install openssl');
    throw new InputError(`openssl ${args[0]} failed: ${(failure.stderr ?? failure.message).trim().split('\n')[0]}`);
  }
}

/** Write the CSR for `gateId` signed by the key at `keyPath`, then read it back: signature, subject and key must be ours. */
export function makeCsr(keyPath: string, key: KeyObject, gateId: string, csrPath: string): void {
  openssl(['req', '-new', '-utf8', '-sha256', '-key', keyPath, '-subj', subjectOf(gateId), '-out', csrPath]);
  openssl(['req', '-in', csrPath, '-noout', '-verify']);
  const subject = openssl(['req', '-in', csrPath, '-noout', '-subject', '-nameopt', 'utf8,-esc_msb,sname']).trim();
  if (subject !== `subject=CN=${gateId}`) throw new InputError(`${csrPath}: openssl wrote the subject ${JSON.stringify(subject)}, expected CN=${gateId}`);
  const csrKey = openssl(['req', '-in', csrPath, '-noout', '-pubkey']);
  const ours = createPublicKey(key).export({ format: 'pem', type: 'spki' }) as string;
  if (csrKey.trim() !== ours.trim()) throw new InputError(`${csrPath}: the request carries another public key than ${keyPath}`);
}
