import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseInstant } from '../src/app/checkCommand.js';
import { InputError, parseWith } from '../src/app/settingsSchema.js';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { initTestCas } from './emv/bankCardCommand.js';
import { TestHolder, TestIssuer, trustListOf, type KeyPair } from './issuer.js';

/*
 * `citygate issuer`: test issuers on disk, for trying `citygate check` by hand.
 * Keys are written unencrypted: they are for development, never for a real issuer.
 */

const keyFileSchema = z.object({ id: z.string().min(1), alg: z.enum(['ES256', 'EdDSA']), kid: z.string().min(1), privateKey: z.looseObject({}) });

function keyFile(dir: string, id: string): string {
  return join(dir, `${id.replace(/[^A-Za-z0-9._-]/g, '_')}.key.json`);
}

function save(issuer: TestIssuer, dir: string): void {
  const body = { id: issuer.id, alg: issuer.key.alg, kid: Buffer.from(issuer.kid).toString('base64url'), privateKey: issuer.key.privateKey.export({ format: 'jwk' }) };
  writeFileSync(keyFile(dir, issuer.id), `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
}

function load(dir: string, id: string): TestIssuer {
  const path = keyFile(dir, id);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError(`no key for issuer ${id} in ${dir} (expected ${path}; run "citygate issuer init" first)`);
  }
  const body = parseWith(keyFileSchema, JSON.parse(text), path);
  const privateKey = createPrivateKey({ key: body.privateKey as never, format: 'jwk' });
  const key: KeyPair = { alg: body.alg, privateKey, publicKey: createPublicKey(privateKey) };
  return new TestIssuer(body.id, body.alg, Buffer.from(body.kid, 'base64url'), key);
}

/** What init writes or trusts: issuer keys, test CA keys (`*.key.json`), the trust list and capk.json. */
const INIT_FILE = /(\.key\.json|^trust\.json|^capk\.json)$/;

/** Keys are not replaced by accident: codes and cards made with them would no longer check. */
function refuseExisting(dir: string, force: boolean): void {
  if (force || !existsSync(dir)) return;
  const held = readdirSync(dir).filter((name) => INIT_FILE.test(name)).sort();
  if (held.length > 0) {
    throw new InputError(`${dir} already holds ${held.join(', ')}: init would replace them (codes and cards made with those keys would no longer check); give another --dir, or --force to replace them`);
  }
}

/** `init`: one key per issuer (`id:alg`), and the trust list that trusts them all; and the bank-card test CAs with their capk.json. */
export function issuerInit(options: { dir: string; issuer: string[]; force?: boolean }): void {
  const specs = options.issuer.map((spec) => {
    const [id, alg = 'ES256'] = spec.split(':');
    if (!id || (alg !== 'ES256' && alg !== 'EdDSA')) throw new InputError(`--issuer ${JSON.stringify(spec)}: expected ID or ID:ES256 or ID:EdDSA`);
    return { id, alg } as const;
  });
  refuseExisting(options.dir, options.force === true);
  const issuers = specs.map(({ id, alg }) => new TestIssuer(id, alg));
  mkdirSync(options.dir, { recursive: true });
  for (const issuer of issuers) save(issuer, options.dir);
  const trust = join(options.dir, 'trust.json');
  writeFileSync(trust, `${JSON.stringify(trustListOf(issuers), null, 2)}\n`);
  initTestCas(options.dir);
  process.stdout.write(`${trust}\n`);
}

export interface CodeOptions {
  dir: string;
  issuer: string;
  sub: string;
  category: string;
  profile: string;
  at?: string;
  ttl: string;
  site?: string;
  entries?: string;
  count: string;
}

/** `code`: print CG1 code texts signed by a saved issuer, one per line; with --count, subjects SUB-1..SUB-N, each code its own id. */
export function issuerCode(options: CodeOptions): void {
  const issuer = load(options.dir, options.issuer);
  if (!(CATEGORIES as readonly string[]).includes(options.category)) throw new InputError(`--category must be one of ${CATEGORIES.join(', ')}`);
  const now = Math.floor((options.at === undefined ? Date.now() : parseInstant(options.at)) / 1000);
  const ttl = Number(options.ttl);
  if (!Number.isFinite(ttl) || ttl <= 0) throw new InputError(`--ttl ${JSON.stringify(options.ttl)} is not a number of seconds`);
  const product = options.site === undefined && options.entries === undefined ? undefined : { ...(options.site ? { site: options.site } : {}), entries: Number(options.entries ?? 1) };
  const count = Number(options.count);
  if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000) throw new InputError(`--count ${JSON.stringify(options.count)} must be a whole number from 1 to 1000000`);
  if (options.profile !== 'issuer' && options.profile !== 'holder') throw new InputError('--profile must be issuer or holder');
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const claims = { sub: count === 1 ? options.sub : `${options.sub}-${i}`, category: options.category, ...(product ? { product } : {}) };
    lines.push(
      options.profile === 'issuer'
        ? issuer.issuerCode({ ...claims, iat: now, exp: now + ttl, cti: randomBytes(16) })
        : TestHolder.enrol(issuer, { ...claims, iat: now, exp: now + ttl }, issuer.key.alg).offlineCode(now),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
