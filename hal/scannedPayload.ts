/**
 * What a serial scan module sends for a code when it is set to pass the
 * payload as bytes rather than text: `hex` (one line of hex digits, the
 * module's "hex output") or `raw` (the payload's own bytes, one code per
 * burst). Binary codes, the national transport QR code above all, need one
 * of them: their bytes are not text and may hold any terminator.
 */

/** The most bytes a QR symbol holds (version 40-L, byte mode). */
export const QR_MAX_BYTES = 2953;

export type ScannedPayload = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'blank' } | { kind: 'garbage'; reason: string };

interface Framing {
  prefix: string;
  suffix: string;
}

/** The payload between the configured prefix and suffix (as bytes); garbage when either is missing. */
function unwrap(frame: Uint8Array, { prefix, suffix }: Framing): Uint8Array | string {
  const head = Buffer.from(prefix, 'utf8');
  const tail = Buffer.from(suffix, 'utf8');
  const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (head.length > 0 && !bytes.subarray(0, head.length).equals(head)) return `a code without the prefix ${JSON.stringify(prefix)}`;
  if (tail.length > 0 && (bytes.length < head.length + tail.length || !bytes.subarray(bytes.length - tail.length).equals(tail))) return `a code without the suffix ${JSON.stringify(suffix)}`;
  return Uint8Array.from(bytes.subarray(head.length, bytes.length - tail.length));
}

function checked(bytes: Uint8Array): ScannedPayload {
  if (bytes.length === 0) return { kind: 'blank' };
  if (bytes.length > QR_MAX_BYTES) return { kind: 'garbage', reason: `${bytes.length} bytes, more than a QR code holds` };
  return { kind: 'bytes', bytes };
}

/** One burst of a module in raw output: the payload's bytes, prefix and suffix removed. */
export function parseRawFrame(frame: Uint8Array, framing: Framing): ScannedPayload {
  const payload = unwrap(frame, framing);
  return typeof payload === 'string' ? { kind: 'garbage', reason: payload } : checked(payload);
}

/** One line of a module in hex output (terminator removed): hex digits, spaces between them allowed. */
export function parseHexLine(line: Uint8Array, framing: Framing): ScannedPayload {
  // A module set to CRLF while the gate expects CR (or the reverse) leaves a stray CR or LF.
  const isLineEnd = (byte: number | undefined) => byte === 0x0d || byte === 0x0a;
  let start = 0;
  let end = line.length;
  while (start < end && isLineEnd(line[start])) start++;
  while (end > start && isLineEnd(line[end - 1])) end--;
  const payload = unwrap(line.subarray(start, end), framing);
  if (typeof payload === 'string') return { kind: 'garbage', reason: payload };
  const digits = Buffer.from(payload).toString('latin1').replaceAll(' ', '');
  if (!/^[0-9A-Fa-f]*$/.test(digits)) return { kind: 'garbage', reason: `a line of ${digits.length} characters that are not all hex digits` };
  if (digits.length % 2 !== 0) return { kind: 'garbage', reason: `an odd number (${digits.length}) of hex digits` };
  return checked(Uint8Array.from(Buffer.from(digits, 'hex')));
}
