import { crc32 } from 'node:zlib';
import { refuse } from '../../reasons.js';
import { concat, u32 } from './purseCrypto.js';

/** The T-Union (交通联合, JT/T 978) application. */
export const TUNION_AID = Uint8Array.from([0xa0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05]);

/** The short file ids the gate reads and writes (CARDS.md §2). */
export const SFI_ISSUER = 0x15;
export const SFI_TRIP = 0x1a;
export const SFI_LOG = 0x1e;
export const ISSUER_LENGTH = 30;
export const TRIP_LENGTH = 128;
export const LOG_LENGTH = 48;
/** The record of file 1A this gate keeps its metro trip in (its id, in byte 1, is also the record number). */
export const METRO_RECORD = 0x01;

/** A complex (CAPP) purchase: the transaction type in MAC1, the TAC and the card's own log. */
export const CAPP_PURCHASE = 0x09;

/** File 15, the public application data (issuer, card number, dates, type). */
export interface IssuerData {
  /** Issuer id (8 bytes, hex); its first 4 bytes are the issuer code the PSAM diversifies with. */
  issuerId: string;
  issuerCode: Uint8Array;
  /** Application serial, 10 bytes BCD: the card number (20 digits), the gate's subject. */
  cardNumber: string;
  /** Its last 8 bytes: the card's key diversification factor. */
  serial: Uint8Array;
  /** YYYYMMDD, as the card writes them. */
  validFrom: string;
  validUntil: string;
  /** The card type (hex), which config maps to a holder category. */
  cardType: string;
}

export function parseIssuerData(data: Uint8Array): IssuerData {
  if (data.length !== ISSUER_LENGTH) refuse('malformed', `file 15 has ${data.length} bytes, not ${ISSUER_LENGTH}`);
  const hex = (from: number, to: number): string => Buffer.from(data.subarray(from, to)).toString('hex').toUpperCase();
  const cardNumber = hex(10, 20);
  if (!/^\d{20}$/.test(cardNumber)) refuse('malformed', `file 15: the application serial ${cardNumber} is not 20 BCD digits`);
  const validFrom = hex(20, 24);
  const validUntil = hex(24, 28);
  for (const [what, date] of [['start', validFrom], ['expiry', validUntil]] as const) {
    if (!isDate(date)) refuse('malformed', `file 15: the ${what} date ${date} is not YYYYMMDD`);
  }
  return { issuerId: hex(0, 8), issuerCode: data.slice(0, 4), cardNumber, serial: data.slice(12, 20), validFrom, validUntil, cardType: hex(28, 29) };
}

function isDate(text: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[3]) >= 1 && Number(m[3]) <= 31;
}

/** What the metro record of file 1A says of the card's trip. */
export type MetroStatus = 'none' | 'entered' | 'exited';

/**
 * This gate's metro record in file 1A (128 bytes, CRC-32 of the first 124 in
 * the last 4, as CARDS.md §2): [0] lock flag, [1] record id, [2] length,
 * [3] status (0 none, 1 entered, 2 exited), [4..5] city code, [6..7] station
 * code (BCD), [8..13] terminal id, [14..20] date-time (BCD), [21..24] amount.
 * Each city lays out its own 1A records; docs/credentials.md says so.
 */
export interface MetroRecord {
  status: MetroStatus;
  city: string;
  station: string;
  terminal: string;
  dateTime: Uint8Array;
  amount: number;
}

const STATUS_CODES: Readonly<Record<MetroStatus, number>> = { none: 0, entered: 1, exited: 2 };

/** A blank, unreadable or corrupt record is no trip: an exit then charges the penalty fare. */
export function parseMetroRecord(data: Uint8Array): { record: MetroRecord | undefined; problem?: string } {
  if (data.length !== TRIP_LENGTH) return { record: undefined, problem: `record 1A has ${data.length} bytes, not ${TRIP_LENGTH}` };
  if (data.every((b) => b === 0)) return { record: undefined };
  const stored = Buffer.from(data).readUInt32BE(124);
  if (crc32(data.subarray(0, 124)) !== stored) return { record: undefined, problem: 'record 1A fails its CRC-32' };
  const status = (Object.keys(STATUS_CODES) as MetroStatus[]).find((s) => STATUS_CODES[s] === data[3]);
  if (status === undefined || data[1] !== METRO_RECORD) return { record: undefined, problem: `record 1A is not this gate's metro record (id ${data[1]}, status ${data[3]})` };
  const hex = (from: number, to: number): string => Buffer.from(data.subarray(from, to)).toString('hex').toUpperCase();
  return { record: { status, city: hex(4, 6), station: hex(6, 8), terminal: hex(8, 14), dateTime: data.slice(14, 21), amount: Buffer.from(data).readUInt32BE(21) } };
}

export function buildMetroRecord(record: MetroRecord): Uint8Array {
  const out = new Uint8Array(TRIP_LENGTH);
  out[1] = METRO_RECORD;
  out[2] = TRIP_LENGTH - 3;
  out[3] = STATUS_CODES[record.status];
  out.set(bcd(record.city, 2), 4);
  out.set(bcd(record.station, 2), 6);
  out.set(bcd(record.terminal, 6), 8);
  out.set(record.dateTime, 14);
  out.set(u32(record.amount), 21);
  Buffer.from(out.buffer, out.byteOffset).writeUInt32BE(crc32(out.subarray(0, 124)), 124);
  return out;
}

/** The kinds of the card's own trip log (file 1E) this gate writes. */
export const LOG_TYPES = { purchase: 0x06, entry: 0x03, exit: 0x04 } as const;
export const INDUSTRY = { metro: 0x01, bus: 0x02 } as const;

/**
 * One record of the card's trip log, file 1E (48 bytes, the layout of
 * CARDS.md's source): type, terminal (8), industry, line and station (7),
 * amount, balance after, date-time, city code, acquirer (8), reserved.
 */
export interface LogRecord {
  type: number;
  terminal: Uint8Array;
  industry: number;
  station?: string | undefined;
  amount: number;
  balanceAfter: number;
  dateTime: Uint8Array;
  city: string;
}

export function buildLogRecord(log: LogRecord): Uint8Array {
  const line = new Uint8Array(7);
  if (log.station !== undefined) line.set(bcd(log.station, 2));
  return concat(Uint8Array.of(log.type), new Uint8Array(2), log.terminal, Uint8Array.of(log.industry), line, u32(log.amount), u32(log.balanceAfter), log.dateTime, bcd(log.city, 2), new Uint8Array(8), new Uint8Array(6));
}

export function parseLogRecord(data: Uint8Array): LogRecord | undefined {
  if (data.length !== LOG_LENGTH || data.every((b) => b === 0)) return undefined;
  const b = Buffer.from(data);
  return {
    type: data[0]!,
    terminal: data.slice(3, 9),
    industry: data[9]!,
    station: data[9] === INDUSTRY.metro ? b.subarray(10, 12).toString('hex').toUpperCase() : undefined,
    amount: b.readUInt32BE(17),
    balanceAfter: b.readUInt32BE(21),
    dateTime: data.slice(25, 32),
    city: b.subarray(32, 34).toString('hex').toUpperCase(),
  };
}

/** Digits (or hex digits) as packed BCD, left-padded with zeros to `bytes`. */
export function bcd(digits: string, bytes: number): Uint8Array {
  return Uint8Array.from(Buffer.from(digits.padStart(bytes * 2, '0'), 'hex'));
}
