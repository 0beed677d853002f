import { describe, expect, it } from 'vitest';
import { RevocationList, RevocationListError } from '../src/core/credentials/emv/revocationList.js';

/* The bank-card revocation list as a gate reads it: every entry checked, hex in any case, looked up in either case. */

const UNIONPAY = 'A000000333';

function thrown(document: unknown, source = 'revocations.json'): Error {
  try {
    RevocationList.fromDocument(document, source);
  } catch (error) {
    return error as Error;
  }
  throw new Error('no error');
}

describe('RevocationList', () => {
  it('reads the entries, upper-cases their hex, and finds exactly the listed certificates in either case', () => {
    const list = RevocationList.fromDocument(
      {
        revoked: [
          { rid: 'a000000333', index: '0b', serial: '00012f' },
          { rid: UNIONPAY, index: '03', serial: '123456' },
        ],
      },
      'test',
    );
    expect(list.entries).toEqual([
      { rid: UNIONPAY, index: '0B', serial: '00012F' },
      { rid: UNIONPAY, index: '03', serial: '123456' },
    ]);
    expect(list.isRevoked(UNIONPAY, '0B', '00012F')).toBe(true);
    expect(list.isRevoked('a000000333', '0b', '00012f')).toBe(true);
    expect(list.isRevoked(UNIONPAY, '03', '123456')).toBe(true);
    // One field off is another certificate.
    expect(list.isRevoked(UNIONPAY, '03', '00012F')).toBe(false);
    expect(list.isRevoked(UNIONPAY, '0B', '123456')).toBe(false);
    expect(list.isRevoked('A000000004', '0B', '00012F')).toBe(false);
    expect(Object.isFrozen(list.entries)).toBe(true);
  });

  it('has an empty list that revokes nothing, and takes an empty document', () => {
    expect(RevocationList.EMPTY.entries).toEqual([]);
    expect(RevocationList.EMPTY.isRevoked(UNIONPAY, '03', '000001')).toBe(false);
    expect(RevocationList.fromDocument({ revoked: [] }, 'test').entries).toEqual([]);
  });

  it('leaves the fields around the list to whoever carries it', () => {
    const list = RevocationList.fromDocument({ seq: 4, exp: 1, revoked: [{ rid: UNIONPAY, index: '03', serial: 'ABCDEF' }] }, 'test');
    expect(list.isRevoked(UNIONPAY, '03', 'abcdef')).toBe(true);
  });

  it('refuses a bad document with a RevocationListError naming the source, the entry and the field', () => {
    const good = { rid: UNIONPAY, index: '03', serial: '000001' };
    const cases: [unknown, string][] = [
      [null, 'revocations.json: expected an object with a "revoked" array'],
      [[good], 'revocations.json: expected an object with a "revoked" array'],
      [{ revoked: { 0: good } }, 'revocations.json: expected an object with a "revoked" array'],
      [{ revoked: [good, 'A000000333:03:000002'] }, 'revocations.json: revoked[1]: not an object with "rid", "index" and "serial"'],
      [{ revoked: [{ ...good, rid: 'A0000003' }] }, 'revocations.json: revoked[0].rid: expected 10 hex digits, got "A0000003"'],
      [{ revoked: [{ ...good, rid: 'A00000033G' }] }, 'revocations.json: revoked[0].rid: expected 10 hex digits, got "A00000033G"'],
      [{ revoked: [good, { ...good, index: 3 }] }, 'revocations.json: revoked[1].index: expected 2 hex digits, got number'],
      [{ revoked: [{ rid: UNIONPAY, index: '03' }] }, 'revocations.json: revoked[0].serial: expected 6 hex digits, got nothing'],
      [{ revoked: [{ ...good, serial: ' 00001' }] }, 'revocations.json: revoked[0].serial: expected 6 hex digits, got " 00001"'],
      [{ revoked: [{ ...good, serial: '0x0001' }] }, 'revocations.json: revoked[0].serial: expected 6 hex digits, got "0x0001"'],
      [{ revoked: [good, { ...good, serial: '000002' }, { ...good, rid: UNIONPAY.toLowerCase() }] }, 'revocations.json: revoked[2]: A000000333:03:000001 repeats revoked[0]'],
    ];
    for (const [document, message] of cases) {
      const error = thrown(document);
      expect(error).toBeInstanceOf(RevocationListError);
      expect(error.message).toBe(message);
    }
  });

  it('shortens a long bad value in its message', () => {
    const message = thrown({ revoked: [{ rid: 'F'.repeat(5000), index: '03', serial: '000001' }] }).message;
    expect(message).toBe(`revocations.json: revoked[0].rid: expected 10 hex digits, got "${'F'.repeat(40)}..."`);
  });
});
