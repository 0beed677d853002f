/**
 * A QR code source: a camera with a decoder, or a serial scan module that
 * sends decoded text. Either way the gate sees the text of one code per event;
 * a driver reports the same code held in view only once.
 */
export type CodeScannerEvent =
  | { type: 'code'; text: string }
  | { type: 'health'; healthy: boolean; detail: string };

export interface CodeScanner {
  start(listener: (event: CodeScannerEvent) => void): Promise<void>;
  stop(): Promise<void>;
}
