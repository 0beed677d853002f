import { z } from 'zod';
import { TrustStore, TrustListError } from '../core/credentials/trustList.js';
import { Decider, type Decision } from '../core/decider.js';
import { MemoryDenyList } from '../core/denyList.js';
import { ReplayGuard } from '../core/replayGuard.js';
import { DEFAULT_TIMEZONE, DEFAULT_TIMINGS, type GateSettings } from '../core/settings.js';
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

/** Verify one code offline, as a gate with these settings would. Throws InputError for usage and file problems. */
export function checkCode(text: string, options: CheckOptions): CheckReport {
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
  return report(decider.decideCode(text, { nowMs, clockTrusted: true }));
}
