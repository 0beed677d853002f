/**
 * A QR code source: a camera with a decoder, or a serial scan module that
 * sends decoded text. Either way the gate sees one code per event: its text,
 * or (`binary`) the payload's bytes exactly as decoded, for codes that are not
 * text (the national transport QR code) and for scanners that pass every
 * payload as bytes; the gate tells the formats apart. A driver reports the
 * same code held in view only once.
 */
export type CodeScannerEvent =
  | { type: 'code'; text: string }
  | { type: 'binary'; bytes: Uint8Array }
  | { type: 'health'; healthy: boolean; detail: string };

export interface CodeScanner {
  start(listener: (event: CodeScannerEvent) => void): Promise<void>;
  stop(): Promise<void>;
}
