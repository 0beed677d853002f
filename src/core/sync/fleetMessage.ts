import type { z } from 'zod';
import type { Clock } from '../../../hal/clock.js';
import { decodeCbor, isMap } from '../credentials/cbor.js';
import { parseCoseSign1, toBeSigned } from '../credentials/cose.js';
import { verifySignature } from '../credentials/publicKey.js';
import { kidText, type TrustStore } from '../credentials/trustList.js';
import { Refusal } from '../reasons.js';

export type FleetRejection = 'malformed' | 'unknown-key' | 'bad-signature' | 'invalid' | 'expired';

/** What a fleet message is for; each is signed for one purpose and opened only as that one (docs/sync.md). */
export type FleetPurpose = 'denylist' | 'command' | 'trust' | 'revocations';

/** COSE header parameter `typ` (RFC 9596), in the protected header of every fleet message. */
export const HEADER_TYP = 16;

/** The `typ` text that binds a fleet message to its purpose, e.g. `citygate-denylist`. */
export function fleetTyp(purpose: FleetPurpose): string {
  return `citygate-${purpose}`;
}

/**
 * The time a fleet message is judged at. While the gate's clock is trusted
 * that is its clock. While it is not (after a jump, no NTP nor RTC), the
 * clock may be anywhere, so fleet keys (`nbf`/`exp`) and a message's own
 * expiry are judged at `lastTrustedSec`, the latest time the gate knows to
 * have passed: a key retired by then is refused, a current one is taken.
 */
export interface FleetTime {
  /** The gate's wall time, epoch seconds. */
  nowSec: number;
  trusted: boolean;
  /** With an untrusted clock: the latest wall time known to have passed (epoch seconds); undefined when the gate never had a trusted clock. */
  lastTrustedSec?: number | undefined;
}

/** A bare number is a trusted clock at that time (tools, tests). */
export type FleetAt = number | FleetTime;

/** Epoch seconds that keys and message expiries are judged at, and how to say it in a log line. */
export function judgedAt(at: FleetAt): { sec: number; note: string } {
  if (typeof at === 'number') return { sec: at, note: '' };
  if (at.trusted) return { sec: at.nowSec, note: '' };
  if (at.lastTrustedSec === undefined) return { sec: at.nowSec, note: ' (clock untrusted and never trusted: judged at the clock)' };
  return { sec: at.lastTrustedSec, note: ` (clock untrusted: judged at the last trusted time ${new Date(at.lastTrustedSec * 1000).toISOString()})` };
}

/** Where the last trusted time is kept across restarts: the journal's meta table. */
export interface TrustedTimeStore {
  metaValue(key: string): string | undefined;
  setMetaValue(key: string, value: string): void;
}

export const LAST_TRUSTED_META = 'last_trusted_ms';
/** The journal is written at most this often while the clock is trusted. */
const LAST_TRUSTED_WRITE_MS = 60_000;

/** Per clock (one per gate process): the last trusted reading with its monotonic time, and the journal's value. */
interface TrustedSample {
  wallMs: number | undefined;
  monoMs: number;
  storedMs: number | undefined;
}
const samples = new WeakMap<Clock, TrustedSample>();

function readStored(store: TrustedTimeStore): number | undefined {
  try {
    const value = Number(store.metaValue(LAST_TRUSTED_META) ?? NaN);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The FleetTime of a gate now. While the clock is trusted its time is noted:
 * in memory with the monotonic time, and in the journal's meta (at most once a
 * minute, and only forward: time known to have passed never goes back). While
 * it is not, the last trusted time is the later of the noted one moved on by
 * the monotonic time since (this process) and the journal's (an earlier run):
 * a lower bound of the true time either way, whatever the clock says. Nothing
 * here throws.
 */
export function fleetTimeOf(clock: Clock, store: TrustedTimeStore): FleetTime {
  const nowMs = clock.now();
  const nowSec = Math.floor(nowMs / 1000);
  const monoMs = clock.monotonic();
  let sample = samples.get(clock);
  if (!sample) {
    sample = { wallMs: undefined, monoMs, storedMs: readStored(store) };
    samples.set(clock, sample);
  }
  if (clock.trusted()) {
    sample.wallMs = nowMs;
    sample.monoMs = monoMs;
    if (sample.storedMs === undefined || nowMs - sample.storedMs >= LAST_TRUSTED_WRITE_MS) {
      try {
        store.setMetaValue(LAST_TRUSTED_META, String(Math.floor(nowMs)));
        sample.storedMs = nowMs;
      } catch {
        // A journal that cannot be written fails elsewhere, loudly; here it only costs the time across a restart.
      }
    }
    return { nowSec, trusted: true };
  }
  const noted = sample.wallMs === undefined ? undefined : sample.wallMs + Math.max(0, monoMs - sample.monoMs);
  const lastMs = noted === undefined ? sample.storedMs : sample.storedMs === undefined ? noted : Math.max(noted, sample.storedMs);
  return { nowSec, trusted: false, lastTrustedSec: lastMs === undefined ? undefined : Math.floor(lastMs / 1000) };
}

/** A fleet message that is refused; `detail` goes to the log. */
export class FleetMessageError extends Error {
  override name = 'FleetMessageError';
  constructor(
    readonly reason: FleetRejection,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

/** CBOR maps with text keys become plain objects, so one schema reads the CBOR and the JSON form. */
function plain(value: unknown, what: string): unknown {
  if (isMap(value)) {
    const object: Record<string, unknown> = {};
    for (const [key, item] of value) {
      if (typeof key !== 'string') throw new FleetMessageError('malformed', `${what}: map key ${String(key)} is not text`);
      object[key] = plain(item, what);
    }
    return object;
  }
  if (Array.isArray(value)) return value.map((item) => plain(item, what));
  return value;
}

function decodePayload(payload: Uint8Array, what: string): unknown {
  if (payload[0] === 0x7b) {
    try {
      return JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch (error) {
      throw new FleetMessageError('malformed', `${what}: payload is not JSON: ${(error as Error).message}`);
    }
  }
  return plain(decodeCbor(payload, `${what} payload`), what);
}

/** The purpose named by the signed protected header; checked only once the signature holds. */
function signedPurpose(protectedBytes: Uint8Array, what: string): string | undefined {
  const header = protectedBytes.length === 0 ? new Map() : decodeCbor(protectedBytes, `${what} protected header`);
  if (!isMap(header)) throw new FleetMessageError('malformed', `${what}: protected header is not a map`);
  const typ = header.get(HEADER_TYP);
  if (typ === undefined) return undefined;
  if (typeof typ !== 'string') throw new FleetMessageError('malformed', `${what}: typ is not text`);
  return typ;
}

/**
 * Verify a COSE_Sign1 from fleet ops (docs/sync.md) against the trust list's
 * fleet keys, check that it was signed as a `purpose` message (`typ` in the
 * protected header) and return its payload, parsed with `schema`. Keys are
 * judged at `at` (see FleetTime). Throws FleetMessageError, never anything else.
 */
export function openFleetMessage<S extends z.ZodType>(bytes: Uint8Array, trust: TrustStore, at: FleetAt, purpose: FleetPurpose, schema: S, what: string): z.infer<S> {
  let payload: unknown;
  const { sec, note } = judgedAt(at);
  try {
    const sign1 = parseCoseSign1(bytes, 'optional', what);
    const kid = sign1.kid ? kidText(sign1.kid) : undefined;
    const key = kid === undefined ? undefined : trust.fleetKeys.get(kid);
    if (!key) throw new FleetMessageError('unknown-key', `${what}: kid ${kid ?? '(none)'} is not a fleet-ops key`);
    if (key.nbf !== undefined && sec < key.nbf) throw new FleetMessageError('unknown-key', `${what}: fleet-ops key ${kid} is not in force before ${key.nbf}${note}`);
    if (key.exp !== undefined && sec >= key.exp) throw new FleetMessageError('unknown-key', `${what}: fleet-ops key ${kid} was retired at ${key.exp}${note}`);
    if (key.alg !== sign1.alg) throw new FleetMessageError('bad-signature', `${what}: signed with ${sign1.alg}, key ${kid} is ${key.alg}`);
    if (!verifySignature(key, toBeSigned(sign1), sign1.signature)) throw new FleetMessageError('bad-signature', `${what}: signature does not verify with ${kid}`);
    const typ = signedPurpose(sign1.protectedBytes, what);
    if (typ === undefined) throw new FleetMessageError('invalid', `${what}: signed without a purpose (no typ in the protected header; expected ${fleetTyp(purpose)})`);
    if (typ !== fleetTyp(purpose)) throw new FleetMessageError('invalid', `${what}: signed as ${JSON.stringify(typ)}, not ${fleetTyp(purpose)}: refused on this topic`);
    payload = decodePayload(sign1.payload, what);
  } catch (error) {
    if (error instanceof FleetMessageError) throw error;
    if (error instanceof Refusal) throw new FleetMessageError('malformed', error.detail);
    throw new FleetMessageError('malformed', `${what}: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FleetMessageError('invalid', `${what}: ${issue.path.join('.') || '(payload)'}: ${issue.message}`);
  }
  return parsed.data;
}
