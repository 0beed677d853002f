import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CardIoError } from '../hal/cardReader.js';
import { cardIoErrorOf, describePcscCode, describePcscError, PCSC_ERROR_CODES, pcscCodeOf, technicianText } from '../hal/pcsc/pcscErrors.js';

/** Messages exactly as the pcsclite module builds them: "<call> error: <pcsc_stringify_error>(0x%.8lx)". */
const removedMessage = new Error('SCardTransmit error: Card was removed.(0x80100069)');
const noServiceMessage = new Error('SCardEstablishContext error: Service not available.(0x8010001d)');

describe('PC/SC error table', () => {
  it('covers exactly the result codes of the installed pcsclite.h, by their names, each with advice', () => {
    const header = readFileSync('/usr/include/PCSC/pcsclite.h', 'utf8');
    const names = new Map<number, string[]>();
    for (const [, name, hex] of header.matchAll(/^#define (SCARD_[EFWP]_\w+)\s+\(\(LONG\)0x([0-9A-Fa-f]{8})\)/gm)) {
      const code = Number.parseInt(hex!, 16);
      names.set(code, [...(names.get(code) ?? []), name!]);
    }
    expect(names.size).toBeGreaterThan(50);
    expect([...PCSC_ERROR_CODES].sort()).toEqual([...names.keys()].sort());
    for (const [code, aliases] of names) {
      const info = describePcscCode(code);
      expect(aliases).toContain(info.name);
      expect(info.advice).not.toBe('');
    }
  });

  it('reads the code out of a pcsclite error message', () => {
    expect(pcscCodeOf(removedMessage)).toBe(0x80100069);
    expect(pcscCodeOf(noServiceMessage)).toBe(0x8010001d);
    expect(pcscCodeOf(new Error('Card Reader not connected'))).toBeUndefined();
  });

  it('maps a card pulled out to removed, a vanished reader or daemon to reader-gone, a timeout to timeout', () => {
    expect(describePcscCode(0x80100069).kind).toBe('removed');
    expect(describePcscCode(0x8010000c).kind).toBe('removed');
    expect(describePcscCode(0x80100017).kind).toBe('reader-gone');
    expect(describePcscCode(0x80100009).kind).toBe('reader-gone');
    expect(describePcscCode(0x8010000a).kind).toBe('timeout');
    expect(describePcscCode(0x8010000b).kind).toBe('io');
  });

  it('marks pcscd going away as a service loss, and vague transfer failures as needing a presence check', () => {
    for (const code of [0x8010001d, 0x8010001e, 0x80100013]) expect(describePcscCode(code).service).toBe(true);
    for (const code of [0x80100016, 0x8010002f, 0x80100066]) expect(describePcscCode(code).ambiguous).toBe(true);
    expect(describePcscCode(0x80100069).ambiguous).toBe(false);
  });

  it('says what to do when pcscd is not running, with the symbolic name and code', () => {
    const text = technicianText(noServiceMessage);
    expect(text).toContain('SCardEstablishContext');
    expect(text).toContain('pcscd is not running');
    expect(text).toContain('SCARD_E_NO_SERVICE');
    expect(text).toContain('0x8010001D');
  });

  it('turns a pcsclite error into the one error type the gate knows', () => {
    const error = cardIoErrorOf(removedMessage, 'ACS ACR1252 00 00');
    expect(error).toBeInstanceOf(CardIoError);
    expect(error.kind).toBe('removed');
    expect(error.detail).toContain('ACS ACR1252 00 00');
    expect(error.detail).toContain('SCARD_W_REMOVED_CARD');
  });

  it('treats an unknown code or an error without one as io that needs a presence check', () => {
    expect(describePcscCode(0x80109999)).toMatchObject({ kind: 'io', ambiguous: true, name: '0x80109999' });
    expect(describePcscError(new Error('Card Reader not connected'))).toMatchObject({ kind: 'io', ambiguous: true });
  });
});
