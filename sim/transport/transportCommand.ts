import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInstant } from '../../src/app/checkCommand.js';
import { InputError } from '../../src/app/settingsSchema.js';
import { INTEROPERABLE, LOCAL } from './codeEncoder.js';
import { loadIssuer, saveIssuer, saveRoot } from './transportFiles.js';
import { TransportRoot, TransportTestIssuer, type RootEntry } from './transportParties.js';

/*
 * `citygate issuer transport`: a test root CA and issuers of national
 * transport QR codes in a directory, its trust list's `transport` object, and
 * codes of both versions for `citygate check --hex` and the scan module.
 */

export interface TransportInitOptions {
  dir: string;
  index: string;
  issuer: string[];
  expiry: string;
}

export interface TransportCodeOptions {
  dir: string;
  issuer: string;
  account: string;
  version: string;
  type: string;
  limit: string;
  at?: string;
  valid: string;
  authorised: string;
  count: string;
  format: string;
}

function wholeNumber(text: string, name: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InputError(`--${name} ${JSON.stringify(text)} must be a whole number from ${min} to ${max}`);
  return n;
}

/** The trust list in `dir` with this root and these issuers in its transport object (made if there is none). */
function mergeTrust(dir: string, root: RootEntry, issuers: string[]): string {
  const path = join(dir, 'trust.json');
  let document: { issuers?: unknown[]; transport?: { roots: RootEntry[]; issuers?: string[] } } = { issuers: [] };
  if (existsSync(path)) {
    try {
      document = JSON.parse(readFileSync(path, 'utf8')) as typeof document;
    } catch (error) {
      throw new InputError(`${path} is not JSON: ${(error as Error).message}`);
    }
  }
  const roots = (document.transport?.roots ?? []).filter((r) => r.index !== root.index);
  const listed = new Set([...(document.transport?.issuers ?? []), ...issuers]);
  document.transport = { roots: [...roots, root], issuers: [...listed] };
  writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
  return path;
}

/** `init`: a root CA at an index, issuers it certifies, and DIR/trust.json trusting them (added to what it trusts already). */
export function transportInit(options: TransportInitOptions): void {
  const index = wholeNumber(options.index, 'index', 0, 255);
  const expiry = /^(0[1-9]|1[0-2])(\d{2})$/.exec(options.expiry);
  if (!expiry) throw new InputError(`--expiry ${JSON.stringify(options.expiry)}: MMYY, the month through which the issuer certificates are valid`);
  const ids = options.issuer.map((id) => {
    if (!/^[0-9A-Fa-f]{8}$/.test(id)) throw new InputError(`--issuer ${JSON.stringify(id)}: an issuer id is 4 bytes, 8 hex digits`);
    return id.toUpperCase();
  });
  mkdirSync(options.dir, { recursive: true });
  const root = new TransportRoot(index);
  saveRoot(options.dir, root);
  for (const id of ids) saveIssuer(options.dir, new TransportTestIssuer(root, id, { expiry: { year: 2000 + Number(expiry[2]), month: Number(expiry[1]) } }));
  process.stdout.write(`${mergeTrust(options.dir, root.trustEntry(), ids)}\n`);
}

/** `code`: codes of one rider of a saved issuer, one per line (hex or base64), generated --at (default now), each a second after the one before. */
export function transportCode(options: TransportCodeOptions): void {
  if (!/^[0-9A-Fa-f]{8}$/.test(options.issuer)) throw new InputError(`--issuer ${JSON.stringify(options.issuer)}: 8 hex digits`);
  if (!/^[0-9A-Fa-f]{20}$/.test(options.account)) throw new InputError(`--account ${JSON.stringify(options.account)}: the account number, 10 bytes as 20 hex digits`);
  if (options.version !== '80' && options.version !== '81') throw new InputError('--version must be 80 (interoperable) or 81 (local)');
  if (!/^[0-9A-Fa-f]{2}$/.test(options.type)) throw new InputError(`--type ${JSON.stringify(options.type)}: the account type, one byte in hex (01 ordinary, 02 student, 03 senior)`);
  if (options.format !== 'hex' && options.format !== 'base64') throw new InputError('--format must be hex or base64');
  const limitFen = wholeNumber(options.limit, 'limit', 0, 0xffffff);
  const validSec = wholeNumber(options.valid, 'valid', 0, 0xffff);
  const authorisedSec = wholeNumber(options.authorised, 'authorised', -(2 ** 31), 2 ** 31);
  const count = wholeNumber(options.count, 'count', 1, 100_000);
  const at = Math.floor((options.at === undefined ? Date.now() : parseInstant(options.at)) / 1000);
  if (at + authorisedSec < 0 || at + authorisedSec > 0xffffffff) throw new InputError(`--authorised ${options.authorised}: the authorisation would end outside the 4-byte field`);
  const issuer = loadIssuer(options.dir, options.issuer.toUpperCase());
  const rider = issuer.enrol({
    accountNumber: options.account.toUpperCase(),
    version: options.version === '81' ? LOCAL : INTEROPERABLE,
    accountType: Number.parseInt(options.type, 16),
    limitFen,
    validSec,
    authorisedUntil: at + authorisedSec,
  });
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(rider.code(at + i).toString(options.format === 'hex' ? 'hex' : 'base64'));
  process.stdout.write(`${lines.join('\n')}\n`);
}
