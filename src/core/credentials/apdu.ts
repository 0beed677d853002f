import { CardIoError, type CardChannel } from '../../../hal/cardReader.js';
import { refuse } from '../reasons.js';

/** The CG card application identifier, "\xF0CITYGATE" (DESIGN.md §3). */
export const CG_AID = Uint8Array.from([0xf0, 0x43, 0x49, 0x54, 0x59, 0x47, 0x41, 0x54, 0x45]);
export const READ_CHUNK = 240;

export interface ApduResponse {
  data: Uint8Array;
  sw: number;
}

export const SW_OK = 0x9000;
export const SW_WRONG_P1P2 = 0x6b00;
export const SW_FILE_NOT_FOUND = 0x6a82;
/** Warning: end of file reached before Le bytes (ISO 7816-4); the data returned is the last of it. */
export const SW_END_OF_FILE = 0x6282;

export function selectAid(aid: Uint8Array): Uint8Array {
  return Uint8Array.from([0x00, 0xa4, 0x04, 0x00, aid.length, ...aid, 0x00]);
}

export function readBinary(offset: number, length: number): Uint8Array {
  return Uint8Array.from([0x00, 0xb0, (offset >> 8) & 0x7f, offset & 0xff, length]);
}

export function internalAuthenticate(challenge: Uint8Array): Uint8Array {
  return Uint8Array.from([0x00, 0x88, 0x00, 0x00, challenge.length, ...challenge, 0x00]);
}

function getResponse(length: number): Uint8Array {
  return Uint8Array.from([0x00, 0xc0, 0x00, 0x00, length]);
}

function split(raw: Uint8Array, what: string): ApduResponse {
  if (raw.length < 2) refuse('malformed', `${what}: response of ${raw.length} bytes has no status word`);
  return { data: raw.subarray(0, raw.length - 2), sw: (raw[raw.length - 2]! << 8) | raw[raw.length - 1]! };
}

/**
 * Exchanges one command with the card, following ISO 7816-4 transport rules a
 * reader may leave to the application: `61xx` (more data: GET RESPONSE) and
 * `6Cxx` (wrong Le: resend with the right one). Card I/O errors become refusals.
 */
export async function exchange(channel: CardChannel, command: Uint8Array, timeoutMs: number, what: string): Promise<ApduResponse> {
  let current: Uint8Array = command;
  let collected: Uint8Array = new Uint8Array(0);
  for (let round = 0; round < 16; round++) {
    const response = split(await transmit(channel, current, timeoutMs, what), what);
    const sw1 = response.sw >> 8;
    if (sw1 === 0x61) {
      collected = concat(collected, response.data);
      current = getResponse(response.sw & 0xff);
    } else if (sw1 === 0x6c) {
      current = Uint8Array.from([...current.subarray(0, current.length - 1), response.sw & 0xff]);
    } else {
      return { data: concat(collected, response.data), sw: response.sw };
    }
  }
  return refuse('malformed', `${what}: card kept asking for more exchanges`);
}

async function transmit(channel: CardChannel, apdu: Uint8Array, timeoutMs: number, what: string): Promise<Uint8Array> {
  try {
    return await channel.transmit(apdu, timeoutMs);
  } catch (error) {
    if (error instanceof CardIoError) {
      if (error.kind === 'timeout') refuse('card-timeout', `${what}: ${error.detail}`);
      refuse('card-removed', `${what}: ${error.detail}`);
    }
    throw error;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function swText(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}
