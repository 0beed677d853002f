import { z } from 'zod';
import { TrustStore, TrustListError } from '../core/credentials/trustList.js';
import { Decider, type Decision } from '../core/decider.js';
import { MemoryDenyList } from '../core/denyList.js';
import { ReplayGuard } from '../core/replayGuard.js';
import { DEFAULT_TIMEZONE, DEFAULT_TIMINGS, type GateSettings } from '../core/settings.js';
import type { CodePayload } from '../core/credentials/codeVerifier.js';
import { CATEGORIES } from '../core/credentials/credential.js';
import { readInputJson } from './inputFile.js';
import { InputError, parseWith } from './settingsSchema.js';

export interface CheckOptions {
  trust: string;
  at?: string;
  gate?: string;
  site?: string;
  zone?: string;
  deny?: string;
  skew?: string;
  freshness?: string;
  /** A binary QR payload (a transport code) in hex or base64, instead of the code's text. */
  hex?: string;
  base64?: string;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A deny-list file for `check`: issuer id -> subjects and `cti:<hex>` code ids. */
const denyFileSchema = z.record(z.string().min(1), z.array(z.string().min(1)));

export function parseInstant(text: string): number {
  const ms = ISO_8601.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new InputError(`--at ${JSON.stringify(text)} is not an ISO-8601 time such as 2026-11-23T08:00:00Z`);
  return ms;
}

function seconds(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new InputError(`--${name} ${JSON.stringify(text)} is not a number of seconds`);
  return n;
}

/** The outcome of `citygate check`, as printed: one JSON object. */
export interface CheckReport {
  result: 'accepted' | 'refused';
  reason: string;
  issuer: string | null;
  subject: string | null;
  category: string | null;
  profile: string | null;
  product: unknown;
  fare: number | null;
  detail?: string;
}

export function report(decision: Decision): CheckReport {
  if (decision.result === 'accepted') {
    const c = decision.credential;
    return { result: 'accepted', reason: 'ok', issuer: c.issuer, subject: c.subject, category: c.category, profile: c.profile, product: c.product ?? null, fare: decision.fare ?? null };
  }
  const who = decision.identity;
  return {
    result: 'refused',
    reason: decision.reason,
    issuer: who?.issuer ?? null,
    subject: who?.subject ?? null,
    category: who?.category ?? null,
    profile: null,
    product: null,
    fare: null,
    detail: decision.detail,
  };
}

/**
 * The code `check` is given: the text argument, or a binary payload from
 * `--hex` or `--base64`, exactly one of them. Whitespace in hex and base64 is
 * ignored (a dump wrapped over lines); anything else that is not the encoding
 * is a usage error, while bytes that are no code are the gate's to refuse.
 */
export function codeToCheck(text: string | undefined, options: Pick<CheckOptions, 'hex' | 'base64'>): CodePayload {
  const given = [text !== undefined && 'the code text', options.hex !== undefined && '--hex', options.base64 !== undefined && '--base64'].filter((g) => g !== false);
  if (given.length !== 1) throw new InputError(given.length === 0 ? 'give the code: its text, --hex HEX or --base64 B64' : `give the code once: ${given.join(' and ')} given`);
  if (options.hex !== undefined) {
    const digits = options.hex.replace(/\s+/g, '');
    if (!/^(?:[0-9A-Fa-f]{2})*$/.test(digits)) throw new InputError(`--hex: ${digits.length % 2 ? 'an odd number of hex digits' : 'not hex digits'}`);
    return Uint8Array.from(Buffer.from(digits, 'hex'));
  }
  if (options.base64 !== undefined) {
    const b64 = options.base64.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64) || b64.replace(/=+$/, '').length % 4 === 1) throw new InputError('--base64: not base64 (RFC 4648, standard or URL-safe alphabet)');
    return Uint8Array.from(Buffer.from(b64.replaceAll('-', '+').replaceAll('_', '/'), 'base64'));
  }
  return text!;
}

/** Verify one code offline, as a gate with these settings would. Throws InputError for usage and file problems. */
export function checkCode(code: CodePayload, options: CheckOptions): CheckReport {
  let trust: TrustStore;
  try {
    trust = TrustStore.fromDocument(readInputJson(options.trust, 'trust list'));
  } catch (error) {
    if (error instanceof TrustListError) throw new InputError(`${options.trust}: ${error.message}`);
    throw error;
  }
  const denyList = options.deny ? MemoryDenyList.fromDocument(parseWith(denyFileSchema, readInputJson(options.deny, 'deny list'), options.deny)) : new MemoryDenyList();
  const settings: GateSettings = {
    gateId: options.gate ?? 'check',
    site: options.site,
    zone: options.zone,
    // A venue without capacity or fares applies no rules beyond the ticket's own: what `check` is for.
    mode: 'venue',
    categories: CATEGORIES,
    fares: undefined,
    ...DEFAULT_TIMINGS,
    skewSec: seconds(options.skew, 'skew', DEFAULT_TIMINGS.skewSec),
    freshnessSec: seconds(options.freshness, 'freshness', DEFAULT_TIMINGS.freshnessSec),
    cardsWhenClockUntrusted: true,
    timezone: DEFAULT_TIMEZONE,
  };
  const nowMs = options.at === undefined ? Date.now() : parseInstant(options.at);
  const decider = new Decider(trust, settings, denyList, new ReplayGuard());
  return report(decider.decideCode(code, { nowMs, clockTrusted: true }));
}
