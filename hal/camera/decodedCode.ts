/**
 * One QR code read from a frame: its payload bytes always, and its text when
 * the payload is text. A CG1 code is text (`CG1:` + base45); a transport code
 * is binary (version byte 0x80/0x81) and has only bytes. Consumers take the
 * field their format needs; neither is derived from the other by guesswork
 * downstream.
 */
export interface DecodedCode {
  /** The payload as text (the symbol's character set, or UTF-8/ISO-8859-1 as zxing-cpp tells), or undefined for a binary payload. */
  readonly text: string | undefined;
  /** The payload bytes as the symbol carries them. */
  readonly bytes: Uint8Array;
}

export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** What tells two presentations apart for the dedup: the text, or the bytes of a binary payload. */
export function codeKey(code: DecodedCode): string {
  return code.text !== undefined ? `t:${code.text}` : `b:${hexOf(code.bytes)}`;
}
