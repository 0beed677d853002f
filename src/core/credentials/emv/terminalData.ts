import { randomBytes } from 'node:crypto';
import { refuse } from '../../reasons.js';
import { localTime } from '../../policy/localTime.js';
import type { CardDate } from './cardDate.js';
import { parseDol } from './tlv.js';

/**
 * Terminal Transaction Qualifiers `9F66` of an offline transit gate (JR/T
 * 0025.12; bits as `PbocCtls.c` reads them): byte 1 qPBOC (b6) and offline
 * only (b4), no online PIN nor signature; byte 2 neither an online cryptogram
 * nor a CVM required; byte 4 b8 fDDA version 01 supported.
 */
export const TRANSIT_TTQ = Uint8Array.from([0x28, 0x00, 0x00, 0x80]);
/** ISO 4217 and ISO 3166 numeric code of China, as n4 BCD. */
export const CNY = Uint8Array.from([0x01, 0x56]);
export const CHINA = Uint8Array.from([0x01, 0x56]);
const ZERO_AMOUNT = new Uint8Array(6);
const NO_TVR = new Uint8Array(5);
const GOODS_AND_SERVICES = Uint8Array.from([0x00]);
const NOT_SUPPORTED = Uint8Array.from([0x00]);
const SUPPORTED = Uint8Array.from([0x01]);

/** The gate's side of one bank-card transaction: what the card's PDOL may ask for, and what the back office gets. */
export interface TerminalData {
  /** Tag -> value, for every data element the gate supplies. */
  values: Map<number, Uint8Array>;
  today: CardDate;
}

/** The local date and time of a minute, cached: formatting it takes longer than the rest of the terminal data. */
let minuteCache: { minute: number; timeZone: string; today: CardDate; date: Uint8Array; time: Uint8Array } | undefined;

function localMinute(nowMs: number, timeZone: string): { today: CardDate; date: Uint8Array; time: Uint8Array } {
  const minute = Math.floor(nowMs / 60_000);
  if (minuteCache?.minute === minute && minuteCache.timeZone === timeZone) return minuteCache;
  const local = localTime(nowMs, timeZone);
  const [year, month, day] = local.date.split('-').map(Number) as [number, number, number];
  const two = (n: number): string => String(n).padStart(2, '0');
  minuteCache = {
    minute,
    timeZone,
    today: { year, month, day },
    date: Buffer.from(`${two(year % 100)}${two(month)}${two(day)}`, 'hex'),
    time: Buffer.from(`${two(Math.floor(local.minute / 60))}${two(local.minute % 60)}00`, 'hex'),
  };
  return minuteCache;
}

/** Unpredictable numbers drawn from the CSPRNG in batches: one call per 256 taps, not one per tap. */
const UN_BATCH = 256;
let unPool = new Uint8Array(0);
let unNext = 0;

function unpredictableNumber(): Uint8Array {
  if (unNext + 4 > unPool.length) {
    unPool = randomBytes(4 * UN_BATCH);
    unNext = 0;
  }
  unNext += 4;
  return unPool.slice(unNext - 4, unNext);
}

/** The gate's values for this tap: the mode's fare as amount, today's local date and time, a fresh unpredictable number. */
export function terminalData(amountFen: number, nowMs: number, timeZone: string): TerminalData {
  const local = localMinute(nowMs, timeZone);
  const values = new Map<number, Uint8Array>([
    [0x9f66, TRANSIT_TTQ],
    [0x9f02, bcd(amountFen, 6)],
    [0x9f03, ZERO_AMOUNT],
    [0x9f1a, CHINA],
    [0x95, NO_TVR],
    [0x5f2a, CNY],
    [0x9a, local.date],
    [0x9f21, local.time],
    [0x9c, GOODS_AND_SERVICES],
    [0x9f37, unpredictableNumber()],
    // Extended applications (DF60) not supported; SM algorithms (DF69) supported.
    [0xdf60, NOT_SUPPORTED],
    [0xdf69, SUPPORTED],
  ]);
  return { values, today: local.today };
}

/** The PDOL's data: each element the card asks for, in its order and length; what the gate does not have is zeros (EMV Book 3 §5.4). */
export function fillDol(dol: Uint8Array, terminal: TerminalData, what: string): Uint8Array {
  const parts = parseDol(dol, what).map(({ tag, length }) => fit(terminal.values.get(tag), length));
  const data = Buffer.concat(parts);
  if (data.length > 252) refuse('malformed', `${what} asks for ${data.length} bytes`);
  return data;
}

/** A value cut or padded to the length the card asks for: numbers keep their right end (n), the rest its left (EMV Book 3 §5.4). */
function fit(value: Uint8Array | undefined, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (!value) return out;
  if (value.length >= length) out.set(value.subarray(0, length));
  else out.set(value);
  return out;
}

/** An amount as n BCD digits in `bytes` bytes. */
export function bcd(value: number, bytes: number): Uint8Array {
  return Buffer.from(String(value).padStart(bytes * 2, '0').slice(-bytes * 2), 'hex');
}
