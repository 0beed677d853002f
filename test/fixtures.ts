/*
 * Shared helpers for the credential and decider tests: a fixed clock, gate
 * settings, raw CBOR/COSE builders for inputs the test issuer will not make,
 * and card channels over simulated cards.
 */
import { decode, encode } from 'cborg';
import { CardIoError, type CardChannel } from '../hal/cardReader.js';
import { Tagged } from '../src/core/credentials/cbor.js';
import { toBeSigned } from '../src/core/credentials/cose.js';
import type { CodeCheckTime } from '../src/core/credentials/codeVerifier.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { CONTRACT_REASONS, GATE_REASONS, Refusal } from '../src/core/reasons.js';
import type { GateSettings } from '../src/core/settings.js';
import { SimCardReader, type CardPresentation } from '../sim/devices.js';
import { signBytes, trustListOf, type KeyPair, type TestIssuer } from '../sim/issuer.js';
import type { ApduResponder } from '../sim/virtualCard.js';

/** Wall time of every test, in epoch seconds (2027-01-15). */
export const NOW = 1_800_000_000;
export const NOW_MS = NOW * 1000;

export const ALL_REASONS: readonly string[] = [...CONTRACT_REASONS, ...GATE_REASONS];

export function codeTime(overrides: Partial<CodeCheckTime> = {}): CodeCheckTime {
  return { nowMs: NOW_MS, skewSec: 30, freshnessSec: 60, ...overrides };
}

export function trustOf(issuers: readonly TestIssuer[]): TrustStore {
  return TrustStore.fromDocument(trustListOf(issuers));
}

export function gateSettings(overrides: Partial<GateSettings> = {}): GateSettings {
  return {
    gateId: 'cq-l2-gate-07',
    site: 'cq-metro-l2',
    zone: undefined,
    mode: 'metro-entry',
    categories: ['adult', 'senior', 'student', 'child', 'disabled', 'staff'],
    fares: undefined,
    skewSec: 30,
    freshnessSec: 60,
    openTimeoutMs: 8_000,
    doubleTapMs: 3_000,
    apduTimeoutMs: 500,
    cardsWhenClockUntrusted: false,
    timezone: 'Asia/Shanghai',
    ...overrides,
  };
}

/** Run `fn` and return the Refusal it throws; fails the test if it returns or throws anything else. */
export function refusalFrom(fn: () => unknown): Refusal {
  try {
    fn();
  } catch (error) {
    if (error instanceof Refusal) return error;
    throw new Error(`expected a Refusal, got ${String((error as Error)?.stack ?? error)}`);
  }
  throw new Error('expected a Refusal, but the call returned');
}

export async function asyncRefusalFrom(fn: () => Promise<unknown>): Promise<Refusal> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof Refusal) return error;
    throw new Error(`expected a Refusal, got ${String((error as Error)?.stack ?? error)}`);
  }
  throw new Error('expected a Refusal, but the call resolved');
}

/** Bytes already encoded as CBOR, spliced as they are into {@link cborMapOf}. */
export class RawCbor {
  constructor(readonly bytes: Uint8Array) {}
}

/** CBOR of a map written entry by entry, so that a key may repeat (cborg will not encode that). */
export function cborMapOf(entries: ReadonlyArray<readonly [unknown, unknown]>): Uint8Array {
  if (entries.length > 23) throw new Error('cborMapOf: keep it under 24 entries');
  const item = (value: unknown) => (value instanceof RawCbor ? value.bytes : encode(value));
  const parts = [Uint8Array.of(0xa0 | entries.length), ...entries.flatMap(([k, v]) => [item(k), item(v)])];
  return Buffer.concat(parts);
}

export interface RawSign1 {
  /** Protected header bytes; default: `{1: alg, 4: kid}` of `key`. */
  protectedBytes?: Uint8Array;
  unprotected?: unknown;
  /** The tag to wrap the array in; `null` for none. Default 18. */
  tag?: number | null;
  /** Replace the array after signing (wrong lengths, wrong types). */
  shape?: (parts: unknown[]) => unknown;
}

/**
 * A COSE_Sign1 signed for real over whatever protected header and payload the
 * test gives, so that a refusal can only come from the check under test.
 */
export function rawSign1(key: KeyPair, payload: Uint8Array, options: RawSign1 & { alg?: number; kid?: Uint8Array } = {}): Uint8Array {
  const header = new Map<number, unknown>([[1, options.alg ?? (key.alg === 'ES256' ? -7 : -8)]]);
  if (options.kid) header.set(4, options.kid);
  const protectedBytes = options.protectedBytes ?? encode(header);
  const signature = signBytes(key, toBeSigned({ protectedBytes, payload }));
  let parts: unknown = [protectedBytes, options.unprotected ?? new Map(), payload, signature];
  if (options.shape) parts = options.shape(parts as unknown[]);
  const tag = options.tag === undefined ? 18 : options.tag;
  return encode(tag === null ? parts : new Tagged(tag, parts));
}

/** Decode a COSE_Sign1 made by the test issuer into its four parts, to re-assemble it altered. */
export function sign1Parts(bytes: Uint8Array): [Uint8Array, Map<unknown, unknown>, Uint8Array, Uint8Array] {
  // Local decoder: the one under test refuses things some tests need to take apart.
  const item = decodeLoose(bytes) as { value?: unknown } | unknown[];
  const parts = (item instanceof Tagged ? item.value : item) as [Uint8Array, Map<unknown, unknown>, Uint8Array, Uint8Array];
  return parts;
}

export function assembleSign1(parts: readonly unknown[], tag: number | null = 18): Uint8Array {
  return encode(tag === null ? parts : new Tagged(tag, parts));
}

function decodeLoose(bytes: Uint8Array): unknown {
  return decode(bytes, { useMaps: true, tags: { 18: Tagged.decoder(18) } } as Parameters<typeof decode>[1]);
}

/** A deterministic PRNG, so a failing fuzz case can be replayed. */
export { seededRandom as prng } from '../sim/seededRandom.js';

/** The channel a SimCardReader hands to its listener when a card is put on it. */
export async function simChannel(card: ApduResponder, presentation: CardPresentation = {}): Promise<CardChannel> {
  const reader = new SimCardReader('test reader');
  let channel: CardChannel | undefined;
  await reader.start((event) => {
    if (event.type === 'card-present') channel = event.channel;
  });
  reader.present(card, presentation);
  if (!channel) throw new Error('SimCardReader did not report the card');
  return channel;
}

export interface Exchange {
  command: Uint8Array;
  response: Uint8Array | undefined;
}

/**
 * Wraps a channel: records every command and response, and can make one
 * transmit (by index, from 0) fail with a reader error instead of answering.
 */
export class RecordingChannel implements CardChannel {
  readonly log: Exchange[] = [];

  constructor(
    private readonly inner: CardChannel,
    private readonly fail?: { at: number; error: Error },
  ) {}

  get readerName(): string {
    return this.inner.readerName;
  }

  get atr(): Uint8Array {
    return this.inner.atr;
  }

  async transmit(apdu: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const entry: Exchange = { command: Uint8Array.from(apdu), response: undefined };
    this.log.push(entry);
    if (this.fail && this.log.length - 1 === this.fail.at) throw this.fail.error;
    entry.response = await this.inner.transmit(apdu, timeoutMs);
    return entry.response;
  }

  async release(): Promise<void> {
    await this.inner.release();
  }

  commands(ins: number): Uint8Array[] {
    return this.log.filter((e) => e.command[1] === ins).map((e) => e.command);
  }
}

export async function recordingChannel(card: ApduResponder, fail?: { at: number; error: Error }): Promise<RecordingChannel> {
  return new RecordingChannel(await simChannel(card), fail);
}

export const timeoutError = (): CardIoError => new CardIoError('timeout', 'no answer within 500 ms');

const INS_GET_RESPONSE = 0xc0;

/**
 * A card behind a T=0 style transport: every response with data comes as
 * `61xx` first and is fetched with GET RESPONSE, `chunk` bytes at a time.
 */
export class GetResponseCard implements ApduResponder {
  private pending: Uint8Array = new Uint8Array(0);
  private pendingSw: number[] = [0x90, 0x00];

  constructor(
    private readonly inner: ApduResponder,
    private readonly chunk = 256,
  ) {}

  get atr(): Uint8Array {
    return this.inner.atr;
  }

  reset(): void {
    this.pending = new Uint8Array(0);
    this.inner.reset();
  }

  respond(apdu: Uint8Array): Uint8Array {
    if (apdu[1] === INS_GET_RESPONSE) {
      const le = apdu[4] === 0 ? 256 : apdu[4]!;
      const out = this.pending.subarray(0, Math.min(le, this.chunk));
      this.pending = this.pending.subarray(out.length);
      return Uint8Array.from([...out, ...this.statusAfter()]);
    }
    const response = this.inner.respond(apdu);
    const data = response.subarray(0, response.length - 2);
    if (data.length === 0) return response;
    this.pending = data;
    this.pendingSw = [...response.subarray(response.length - 2)];
    return this.statusAfter();
  }

  private statusAfter(): Uint8Array {
    if (this.pending.length === 0) return Uint8Array.from(this.pendingSw);
    return Uint8Array.of(0x61, this.pending.length >= 256 ? 0x00 : this.pending.length);
  }
}

/**
 * A card that insists on an exact Le: a command whose Le differs from the
 * length of its answer gets `6Cxx` (xx = the right Le) and must be resent.
 */
export class ExactLeCard implements ApduResponder {
  readonly corrections: number[] = [];

  constructor(private readonly inner: ApduResponder) {}

  get atr(): Uint8Array {
    return this.inner.atr;
  }

  reset(): void {
    this.inner.reset();
  }

  respond(apdu: Uint8Array): Uint8Array {
    const response = this.inner.respond(apdu);
    const dataLength = response.length - 2;
    const le = apdu[apdu.length - 1]!;
    if (dataLength > 0 && dataLength < 256 && le !== dataLength) {
      this.corrections.push(dataLength);
      return Uint8Array.of(0x6c, dataLength);
    }
    return response;
  }
}

/** Any object answering APDUs from a function: hostile or broken cards. */
export function responder(respond: (apdu: Uint8Array, index: number) => Uint8Array): ApduResponder {
  let index = 0;
  return {
    atr: Uint8Array.of(0x3b, 0x00),
    reset: () => {
      index = 0;
    },
    respond: (apdu) => respond(apdu, index++),
  };
}

export function sw(value: number): Uint8Array {
  return Uint8Array.of(value >> 8, value & 0xff);
}
