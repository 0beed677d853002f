import type { CodeScannerEvent } from '../codeScanner.js';
import type { DecodedCode } from './decodedCode.js';

/** The scanner event for a code the camera read: its text, or for a binary payload (a transport code) its bytes. */
export function codeEventOf(code: DecodedCode): CodeScannerEvent {
  return code.text !== undefined ? { type: 'code', text: code.text } : { type: 'binary', bytes: code.bytes };
}
