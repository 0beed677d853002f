import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, parseWith } from '../../src/app/settingsSchema.js';
import type { CoseAlg } from '../../src/core/credentials/cose.js';
import type { Jwk } from '../../src/core/credentials/trustList.js';

/** The fleet-ops signing key: signs deny-list updates, commands and trust lists (docs/sync.md). */
export interface FleetKey {
  alg: CoseAlg;
  /** The kid as bytes, as it goes into the COSE protected header. */
  kid: Uint8Array;
  privateKey: KeyObject;
}

export const PRIVATE_KEY_FILE = 'fleet-key.json';
export const PUBLIC_KEY_FILE = 'fleet-public.json';

const privateJwkSchema = z.looseObject({
  kid: z.string().min(1).regex(/^[A-Za-z0-9_-]+$/, 'kid must be unpadded base64url'),
  alg: z.enum(['ES256', 'EdDSA']),
  kty: z.string(),
  crv: z.string(),
  d: z.string().min(1),
});

export function generateFleetKey(alg: CoseAlg): FleetKey {
  const { privateKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { alg, kid: randomBytes(8), privateKey };
}

/** The public JWK to paste into the `fleet` array of the gates' trust list. */
export function publicJwkOf(key: FleetKey): Jwk {
  const jwk = createPublicKey(key.privateKey).export({ format: 'jwk' });
  return { kid: Buffer.from(key.kid).toString('base64url'), alg: key.alg, kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, ...(jwk.y ? { y: jwk.y } : {}) };
}

/**
 * Write the private key (a private JWK, mode 0600) and the public JWK into `dir`.
 * An existing key is never replaced unless `force`: losing it means re-provisioning every gate's trust list.
 */
export function saveFleetKey(dir: string, key: FleetKey, force: boolean): { privatePath: string; publicPath: string } {
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  if (!force && existsSync(privatePath)) throw new InputError(`${privatePath} exists: a fleet-ops key is already there (use --force to replace it; gates trusting the old key will refuse the new one)`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const publicJwk = publicJwkOf(key);
  const privateJwk = { ...key.privateKey.export({ format: 'jwk' }), kid: publicJwk.kid, alg: key.alg };
  writeFileSync(privatePath, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  // The mode above only applies to a new file; a replaced one keeps its old mode otherwise.
  chmodSync(privatePath, 0o600);
  writeFileSync(publicPath, `${JSON.stringify(publicJwk, null, 2)}\n`);
  return { privatePath, publicPath };
}

export function loadFleetKey(dir: string): FleetKey {
  const path = join(dir, PRIVATE_KEY_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read the fleet-ops key ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (run "citygate fleet init --dir ${dir}" first)`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const jwk = parseWith(privateJwkSchema, document, path);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (error) {
    throw new InputError(`${path}: not a usable private key: ${(error as Error).message}`);
  }
  const type = privateKey.asymmetricKeyType;
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  const fits = jwk.alg === 'ES256' ? type === 'ec' && curve === 'prime256v1' : type === 'ed25519';
  if (!fits) throw new InputError(`${path}: alg ${jwk.alg} does not fit a ${type}${curve ? ` ${curve}` : ''} key`);
  return { alg: jwk.alg, kid: Buffer.from(jwk.kid, 'base64url'), privateKey };
}
