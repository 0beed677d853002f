import { CardIoError, type CardIoErrorKind } from '../cardReader.js';

/**
 * What a PC/SC result code means for the gate:
 * - `kind`: how a failed card exchange is reported (CardIoError kind);
 * - `ambiguous`: the reader could not finish the exchange without saying why;
 *   if the card is gone from the reader right after, it was pulled out;
 * - `service`: the connection to pcscd itself is gone, so every reader is.
 */
export interface PcscErrorInfo {
  code: number;
  name: string;
  kind: CardIoErrorKind;
  ambiguous: boolean;
  service: boolean;
  /** For the technician: what happened and what to check. */
  advice: string;
}

type Entry = [name: string, kind: CardIoErrorKind, advice: string, flags?: 'ambiguous' | 'service'];

/** Every result code of pcsc-lite's pcsclite.h (1.9), with what a technician should do about it. */
const TABLE: Record<number, Entry> = {
  0x80100001: ['SCARD_F_INTERNAL_ERROR', 'io', 'internal error in pcscd or the reader driver: restart pcscd (systemctl restart pcscd) and check its log (journalctl -u pcscd)'],
  0x80100002: ['SCARD_E_CANCELLED', 'io', 'the request was cancelled (the gate is stopping or reconnecting)'],
  0x80100003: ['SCARD_E_INVALID_HANDLE', 'reader-gone', 'the card handle is no longer valid (pcscd restarted or the reader was re-plugged): the gate reconnects by itself'],
  0x80100004: ['SCARD_E_INVALID_PARAMETER', 'io', 'pcscd rejected a parameter: a software fault, report it with the pcscd log'],
  0x80100005: ['SCARD_E_INVALID_TARGET', 'io', 'pcscd has inconsistent reader data: restart pcscd'],
  0x80100006: ['SCARD_E_NO_MEMORY', 'io', 'pcscd ran out of memory: check free memory on the board (free -m) and restart pcscd'],
  0x80100007: ['SCARD_F_WAITED_TOO_LONG', 'timeout', 'the reader did not answer in time: check the reader cable and USB power'],
  0x80100008: ['SCARD_E_INSUFFICIENT_BUFFER', 'io', 'the card answered more data than expected: the card is not a CG card or is damaged'],
  0x80100009: ['SCARD_E_UNKNOWN_READER', 'reader-gone', 'the reader is not known to pcscd (unplugged?): check the USB cable, then `pcsc_scan`'],
  0x8010000a: ['SCARD_E_TIMEOUT', 'timeout', 'pcscd timed out waiting for the reader: check the reader cable and USB power'],
  0x8010000b: ['SCARD_E_SHARING_VIOLATION', 'io', 'another program holds the reader exclusively: stop it (e.g. a running pcsc_scan or opensc-tool), then retry'],
  0x8010000c: ['SCARD_E_NO_SMARTCARD', 'removed', 'no card on the reader: the card left the field'],
  0x8010000d: ['SCARD_E_UNKNOWN_CARD', 'io', 'the card type is not supported by the reader'],
  0x8010000e: ['SCARD_E_CANT_DISPOSE', 'io', 'the reader could not reset or power down the card: re-plug the reader'],
  0x8010000f: ['SCARD_E_PROTO_MISMATCH', 'io', 'the card speaks neither T=0 nor T=1 as requested: not a CG card'],
  0x80100010: ['SCARD_E_NOT_READY', 'io', 'the reader or card is not ready: wait a moment; if it persists re-plug the reader'],
  0x80100011: ['SCARD_E_INVALID_VALUE', 'io', 'pcscd rejected a value: a software fault, report it with the pcscd log'],
  0x80100012: ['SCARD_E_SYSTEM_CANCELLED', 'reader-gone', 'the system cancelled the request (shutdown or logoff)'],
  0x80100013: ['SCARD_F_COMM_ERROR', 'reader-gone', 'lost the connection to pcscd (it stopped or crashed): the gate reconnects by itself; check `systemctl status pcscd`', 'service'],
  0x80100014: ['SCARD_F_UNKNOWN_ERROR', 'io', 'the reader reported an unknown error: re-plug the reader; if it persists replace it', 'ambiguous'],
  0x80100015: ['SCARD_E_INVALID_ATR', 'io', 'the card answered to reset with an invalid ATR: damaged or unsupported card'],
  0x80100016: ['SCARD_E_NOT_TRANSACTED', 'io', 'the reader could not complete the exchange with the card (card moved away, or a reader fault)', 'ambiguous'],
  0x80100017: ['SCARD_E_READER_UNAVAILABLE', 'reader-gone', 'the reader is unavailable (unplugged or its driver failed): check the USB cable, then `pcsc_scan`'],
  0x80100018: ['SCARD_P_SHUTDOWN', 'reader-gone', 'pcscd is shutting down'],
  0x80100019: ['SCARD_E_PCI_TOO_SMALL', 'io', 'protocol control buffer too small: a software fault, report it'],
  0x8010001a: ['SCARD_E_READER_UNSUPPORTED', 'reader-gone', 'pcscd does not support this reader: install the right driver (libccid for CCID readers)'],
  0x8010001b: ['SCARD_E_DUPLICATE_READER', 'io', 'the same reader is configured twice: check /etc/reader.conf.d'],
  0x8010001c: ['SCARD_E_CARD_UNSUPPORTED', 'io', 'the card is not supported by the reader'],
  0x8010001d: ['SCARD_E_NO_SERVICE', 'reader-gone', 'pcscd is not running: start it (systemctl start pcscd.socket pcscd) and check the socket /run/pcscd/pcscd.comm', 'service'],
  0x8010001e: ['SCARD_E_SERVICE_STOPPED', 'reader-gone', 'pcscd has stopped: the gate reconnects when it is back; check `systemctl status pcscd`', 'service'],
  0x8010001f: ['SCARD_E_UNSUPPORTED_FEATURE', 'io', 'the reader or driver does not support this operation'],
  0x80100020: ['SCARD_E_ICC_INSTALLATION', 'io', 'no primary provider for the card'],
  0x80100021: ['SCARD_E_ICC_CREATEORDER', 'io', 'card creation order not supported'],
  0x80100023: ['SCARD_E_DIR_NOT_FOUND', 'io', 'directory not found on the card'],
  0x80100024: ['SCARD_E_FILE_NOT_FOUND', 'io', 'file not found on the card'],
  0x80100025: ['SCARD_E_NO_DIR', 'io', 'the path is not a directory on the card'],
  0x80100026: ['SCARD_E_NO_FILE', 'io', 'the path is not a file on the card'],
  0x80100027: ['SCARD_E_NO_ACCESS', 'io', 'access to the file on the card is denied'],
  0x80100028: ['SCARD_E_WRITE_TOO_MANY', 'io', 'the card is full'],
  0x80100029: ['SCARD_E_BAD_SEEK', 'io', 'error setting the card file pointer'],
  0x8010002a: ['SCARD_E_INVALID_CHV', 'io', 'the PIN is invalid'],
  0x8010002b: ['SCARD_E_UNKNOWN_RES_MNG', 'io', 'unrecognised resource manager error'],
  0x8010002c: ['SCARD_E_NO_SUCH_CERTIFICATE', 'io', 'the certificate does not exist'],
  0x8010002d: ['SCARD_E_CERTIFICATE_UNAVAILABLE', 'io', 'the certificate cannot be obtained'],
  0x8010002e: ['SCARD_E_NO_READERS_AVAILABLE', 'reader-gone', 'no reader is connected: plug the reader in and check `lsusb` and `pcsc_scan`'],
  0x8010002f: ['SCARD_E_COMM_DATA_LOST', 'io', 'data was lost between reader and card: card moved, or interference near the antenna', 'ambiguous'],
  0x80100030: ['SCARD_E_NO_KEY_CONTAINER', 'io', 'the key container does not exist'],
  0x80100031: ['SCARD_E_SERVER_TOO_BUSY', 'io', 'pcscd is too busy (too many clients): look for stuck programs using the reader'],
  0x80100065: ['SCARD_W_UNSUPPORTED_CARD', 'io', 'the card is not supported (ATR conflict): not a CG card'],
  0x80100066: ['SCARD_W_UNRESPONSIVE_CARD', 'io', 'the card does not answer to reset: damaged card, or held at the edge of the field', 'ambiguous'],
  0x80100067: ['SCARD_W_UNPOWERED_CARD', 'io', 'the card lost power (card moved away, or the reader powered it down)', 'ambiguous'],
  0x80100068: ['SCARD_W_RESET_CARD', 'io', 'the card was reset by another program during the exchange: stop other programs using the reader'],
  0x80100069: ['SCARD_W_REMOVED_CARD', 'removed', 'the card was removed from the reader'],
  0x8010006a: ['SCARD_W_SECURITY_VIOLATION', 'io', 'access denied by the card'],
  0x8010006b: ['SCARD_W_WRONG_CHV', 'io', 'wrong PIN'],
  0x8010006c: ['SCARD_W_CHV_BLOCKED', 'io', 'PIN blocked'],
  0x8010006d: ['SCARD_W_EOF', 'io', 'end of the card file reached'],
  0x8010006e: ['SCARD_W_CANCELLED_BY_USER', 'io', 'cancelled by the user'],
  0x8010006f: ['SCARD_W_CARD_NOT_AUTHENTICATED', 'io', 'no PIN was presented to the card'],
};

/** Every code the table knows, for tests and documentation. */
export const PCSC_ERROR_CODES: readonly number[] = Object.keys(TABLE).map(Number);

export function describePcscCode(code: number): PcscErrorInfo {
  const entry = TABLE[code];
  if (!entry) return { code, name: `0x${hex(code)}`, kind: 'io', ambiguous: true, service: false, advice: 'unknown PC/SC error: report it with the pcscd log (journalctl -u pcscd)' };
  const [name, kind, advice, flag] = entry;
  return { code, name, kind, ambiguous: flag === 'ambiguous', service: flag === 'service', advice };
}

/**
 * The PC/SC code inside an error of the pcsclite module: its messages read
 * "SCardTransmit error: Card was removed.(0x80100069)". Undefined when the
 * error carries none (then it is not a PC/SC result at all).
 */
export function pcscCodeOf(error: unknown): number | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const match = /\(0x([0-9a-fA-F]{8})\)/.exec(message);
  return match ? Number.parseInt(match[1]!, 16) : undefined;
}

/** The operation named in a pcsclite error ("SCardConnect", ...), for the log line. */
function operationOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /^(SCard\w+) error/.exec(message)?.[1] ?? 'PC/SC';
}

/** The mapped meaning of an error from the pcsclite module. */
export function describePcscError(error: unknown): PcscErrorInfo {
  const code = pcscCodeOf(error);
  if (code !== undefined) return describePcscCode(code);
  const message = error instanceof Error ? error.message : String(error);
  return { code: 0, name: 'no PC/SC code', kind: 'io', ambiguous: true, service: false, advice: message };
}

/** One line for the technician: operation, symbolic name, code, advice. */
export function technicianText(error: unknown): string {
  const info = describePcscError(error);
  if (info.code === 0) return `${operationOf(error)}: ${info.advice}`;
  return `${operationOf(error)} failed: ${info.advice} (${info.name}, 0x${hex(info.code)})`;
}

/** The error a channel raises for a failed exchange on `readerName`. */
export function cardIoErrorOf(error: unknown, readerName: string): CardIoError {
  return new CardIoError(describePcscError(error).kind, `${readerName}: ${technicianText(error)}`);
}

function hex(code: number): string {
  return code.toString(16).toUpperCase().padStart(8, '0');
}
