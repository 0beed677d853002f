import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, parseWith } from '../../src/app/settingsSchema.js';
import { sm2KeyPairOf } from './transportKeys.js';
import { TransportRoot, TransportTestIssuer } from './transportParties.js';

/*
 * Test roots and issuers of transport QR codes on disk, for `citygate issuer
 * transport`. Private keys are written unencrypted: for development only,
 * never for a real root or issuer.
 */

const rootFileSchema = z.object({ index: z.number().int().min(0).max(255), privateKey: z.string().regex(/^[0-9a-f]{64}$/) });
const issuerFileSchema = z.object({
  id: z.string().regex(/^[0-9A-F]{8}$/),
  rootIndex: z.number().int().min(0).max(255),
  privateKey: z.string().regex(/^[0-9a-f]{64}$/),
  expiry: z.object({ year: z.number().int(), month: z.number().int().min(1).max(12) }),
  serial: z.string().regex(/^[0-9A-F]{6}$/),
  organisation: z.string().regex(/^[0-9A-Fa-f]{8}$/),
  platform: z.string().regex(/^[0-9A-Fa-f]{8}$/),
});

const hex32 = (d: bigint) => d.toString(16).padStart(64, '0');

function rootFile(dir: string, index: number): string {
  return join(dir, `transport-root-${index}.key.json`);
}

function issuerFile(dir: string, id: string): string {
  return join(dir, `transport-issuer-${id}.key.json`);
}

function readJson(path: string, what: string, hint: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError(`no ${what} (expected ${path}; ${hint})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path} is not JSON: ${(error as Error).message}`);
  }
}

export function saveRoot(dir: string, root: TransportRoot): void {
  writeFileSync(rootFile(dir, root.index), `${JSON.stringify({ index: root.index, privateKey: hex32(root.key.privateKey) }, null, 2)}\n`, { mode: 0o600 });
}

export function saveIssuer(dir: string, issuer: TransportTestIssuer): void {
  const body = {
    id: issuer.id,
    rootIndex: issuer.root.index,
    privateKey: hex32(issuer.key.privateKey),
    expiry: issuer.expiry,
    serial: issuer.serial,
    organisation: issuer.organisation,
    platform: issuer.platform,
  };
  writeFileSync(issuerFile(dir, issuer.id), `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
}

/** An issuer saved by `issuer transport init`, with the root that certified it. */
export function loadIssuer(dir: string, id: string): TransportTestIssuer {
  const hint = 'run "citygate issuer transport init" first';
  const issuerPath = issuerFile(dir, id);
  const saved = parseWith(issuerFileSchema, readJson(issuerPath, `transport issuer ${id}`, hint), issuerPath);
  const rootPath = rootFile(dir, saved.rootIndex);
  const root = parseWith(rootFileSchema, readJson(rootPath, `transport root ${saved.rootIndex}`, hint), rootPath);
  return new TransportTestIssuer(new TransportRoot(root.index, sm2KeyPairOf(BigInt(`0x${root.privateKey}`))), saved.id, {
    key: sm2KeyPairOf(BigInt(`0x${saved.privateKey}`)),
    expiry: saved.expiry,
    serial: saved.serial,
    organisation: saved.organisation,
    platform: saved.platform,
  });
}
