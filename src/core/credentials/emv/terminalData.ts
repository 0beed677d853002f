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

/** The gate's side of one bank-card transaction: what the card's PDOL may ask for, and what the back office gets. */
export interface TerminalData {
  /** Tag -> value, for every data element the gate supplies. */
  values: Map<number, Uint8Array>;
  today: CardDate;
}

/** The gate's values for this tap: the mode's fare as amount, today's local date and time, a fresh unpredictable number. */
export function terminalData(amountFen: number, nowMs: number, timeZone: string): TerminalData {
  const local = localTime(nowMs, timeZone);
  const [year, month, day] = local.date.split('-').map(Number) as [number, number, number];
  const hhmmss = `${String(Math.floor(local.minute / 60)).padStart(2, '0')}${String(local.minute % 60).padStart(2, '0')}00`;
  const values = new Map<number, Uint8Array>([
    [0x9f66, TRANSIT_TTQ],
    [0x9f02, bcd(amountFen, 6)],
    [0x9f03, bcd(0, 6)],
    [0x9f1a, CHINA],
    [0x95, new Uint8Array(5)],
    [0x5f2a, CNY],
    [0x9a, Buffer.from(`${String(year % 100).padStart(2, '0')}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`, 'hex')],
    [0x9f21, Buffer.from(hhmmss, 'hex')],
    [0x9c, Uint8Array.from([0x00])],
    [0x9f37, randomBytes(4)],
    // Extended applications (DF60) not supported; SM algorithms (DF69) supported.
    [0xdf60, Uint8Array.from([0x00])],
    [0xdf69, Uint8Array.from([0x01])],
  ]);
  return { values, today: { year, month, day } };
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
