import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCapkFile } from '../src/app/bankCardFiles.js';
import { InputError } from '../src/app/settingsSchema.js';
import { CaKeyStore, CapkError } from '../src/core/credentials/emv/capk.js';

/*
 * The CA public key file of DESIGN.md §5, with CA keys as the schemes
 * publish them: the UnionPay TEST key A000000333 / 80 (with the expiry
 * 2030-12-30 its terminal parameter record DF05 gives), and the
 * MasterCard 05 and Visa 01 keys of proxmark3's EMV tests with their
 * published SHA-1 checksums (their expiry dates are this test's).
 */

const UNIONPAY_80 = {
  rid: 'A000000333',
  index: '80',
  algorithm: 'RSA',
  modulus:
    'CCDBA686E2EFB84CE2EA01209EEB53BEF21AB6D353274FF8391D7035D76E2156CAEDD07510E07DAFCACABB7CCB0950BA2F0A3CEC313C52EE6CD09EF00401A3D6CC5F68CA5FCD0AC6132141FAFD1CFA36A2692D02DDC27EDA4CD5BEA6FF21913B513CE78BF33E6877AA5B605BC69A534F3777CBED6376BA649C72516A7E16AF85',
  exponent: '010001',
  expiry: '2030-12-30',
  checksum: 'A5E44BB0E1FA4F96A11709186670D0835057D35E',
};
const MASTERCARD_05 = {
  rid: 'A000000004',
  index: '05',
  algorithm: 'RSA',
  modulus:
    'B8048ABC30C90D976336543E3FD7091C8FE4800DF820ED55E7E94813ED00555B573FECA3D84AF6131A651D66CFF4284FB13B635EDD0EE40176D8BF04B7FD1C7BACF9AC7327DFAA8AA72D10DB3B8E70B2DDD811CB4196525EA386ACC33C0D9D4575916469C4E4F53E8E1C912CC618CB22DDE7C3568E90022E6BBA770202E4522A2DD623D180E215BD1D1507FE3DC90CA310D27B3EFCCD8F83DE3052CAD1E48938C68D095AAC91B5F37E28BB49EC7ED597',
  exponent: '03',
  expiry: '2021-12-31',
  checksum: 'EBFA0D5D06D8CE702DA3EAE890701D45E274C845',
};
const VISA_01 = {
  rid: 'a000000003',
  index: '01',
  algorithm: 'RSA',
  modulus:
    'c696034213d7d8546984579d1d0f0ea519cff8deffc429354cf3a871a6f7183f1228da5c7470c055387100cb935a712c4e2864df5d64ba93fe7e63e71f25b1e5f5298575ebe1c63aa617706917911dc2a75ac28b251c7ef40f2365912490b939bca2124a30a28f54402c34aeca331ab67e1e79b285dd5771b5d9ff79ea630b75',
  exponent: '03',
  expiry: '2009-12-31',
  checksum: 'd34a6a776011c7e7ce3aec5f03ad2f8cfc5503cc',
};
/** The public key of GM/T 0003.5-2012 (GB/T 32918.2) example A.2, standing in for an SM2 CA key. */
const SM2_POINT = '0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13';
const SM2_KEY = { rid: 'A000000333', index: '57', algorithm: 'SM2', publicKey: SM2_POINT, expiry: '2030-12-30' };

function error(run: () => unknown): CapkError {
  try {
    run();
  } catch (thrown) {
    if (thrown instanceof CapkError) return thrown;
    throw thrown;
  }
  throw new Error('not refused');
}

function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (thrown) {
    if (thrown instanceof InputError) return thrown;
    throw thrown;
  }
  throw new Error('not refused');
}

const parse = (document: unknown) => CaKeyStore.parse(document, 'capk.json');
const without = (entry: Record<string, string>, field: string) => Object.fromEntries(Object.entries(entry).filter(([key]) => key !== field));

describe('CaKeyStore.parse', () => {
  it('loads the UnionPay test key with its published checksum, and finds it by RID and index', () => {
    const store = parse([UNIONPAY_80, MASTERCARD_05, VISA_01, SM2_KEY]);
    expect(store.size).toBe(4);
    const key = store.find('A000000333', '80')!;
    expect(key.algorithm).toBe('RSA');
    expect(Buffer.from(key.rsa!.modulus).toString('hex').toUpperCase()).toBe(UNIONPAY_80.modulus);
    expect(Buffer.from(key.rsa!.exponent).toString('hex')).toBe('010001');
    expect(key.expiry).toEqual({ year: 2030, month: 12, day: 30 });
    expect(key.sm2PublicKey).toBeUndefined();
  });

  it('loads the MasterCard and Visa keys with the checksums proxmark3 publishes, hex in either case', () => {
    const store = parse([MASTERCARD_05, VISA_01]);
    expect(store.find('a000000004', '05')!.rsa!.modulus.length).toBe(176);
    expect(store.find('A000000003', '01')!.rid).toBe('A000000003');
    expect(Buffer.from(store.find('A000000003', '01')!.rsa!.exponent).toString('hex')).toBe('03');
  });

  it('does not apply the expiry: a key past it is still found', () => {
    expect(parse([VISA_01]).find('A000000003', '01')!.expiry).toEqual({ year: 2009, month: 12, day: 31 });
  });

  it('answers undefined for a key it does not hold', () => {
    const store = parse([UNIONPAY_80]);
    expect(store.find('A000000333', '81')).toBeUndefined();
    expect(store.find('A000000004', '80')).toBeUndefined();
    expect(store.find('A00000033', '380')).toBeUndefined();
  });

  it('loads an SM2 key as its point, with or without a checksum over RID||index||publicKey', () => {
    const checksum = createHash('sha1').update(Buffer.from(`A00000033357${SM2_POINT}`, 'hex')).digest('hex');
    for (const entry of [SM2_KEY, { ...SM2_KEY, checksum }]) {
      const key = parse([entry]).find('A000000333', '57')!;
      expect(key.algorithm).toBe('SM2');
      expect(Buffer.from(key.sm2PublicKey!).toString('hex').toUpperCase()).toBe(SM2_POINT);
      expect(key.rsa).toBeUndefined();
    }
    expect(error(() => parse([{ ...SM2_KEY, checksum: UNIONPAY_80.checksum }])).message).toMatch(/^capk\.json: \[0\]\.checksum: RID A000000333 index 57: SHA-1 of RID\|\|index\|\|publicKey is /);
  });

  it.each([
    ['a checksum with one digit changed', [{ ...UNIONPAY_80, checksum: 'A5E44BB0E1FA4F96A11709186670D0835057D35F' }], /^capk\.json: \[0\]\.checksum: RID A000000333 index 80: SHA-1 of RID\|\|index\|\|modulus\|\|exponent is A5E44BB0E1FA4F96A11709186670D0835057D35E \(got "A5E44BB0E1FA4F96A11709186670D0835057D35F"\)$/],
    ['a modulus with one byte changed', [UNIONPAY_80, { ...MASTERCARD_05, modulus: `B9${MASTERCARD_05.modulus.slice(2)}` }], /^capk\.json: \[1\]\.checksum: RID A000000004 index 05: SHA-1 of/],
    ['a modulus with a digit that is not hex', [{ ...UNIONPAY_80, modulus: `CCDG${UNIONPAY_80.modulus.slice(4)}` }], /^capk\.json: \[0\]\.modulus: hex digits, two per byte \(got "CCDGA686/],
    ['a modulus with an odd count of digits', [{ ...UNIONPAY_80, modulus: UNIONPAY_80.modulus.slice(1) }], /^capk\.json: \[0\]\.modulus: hex digits, two per byte/],
    ['no modulus', [without(UNIONPAY_80, 'modulus')], /^capk\.json: \[0\]\.modulus: missing \(an RSA key needs it\)$/],
    ['no checksum for an RSA key', [without(UNIONPAY_80, 'checksum')], /^capk\.json: \[0\]\.checksum: missing/],
    ['no RID', [VISA_01, without(UNIONPAY_80, 'rid')], /^capk\.json: \[1\]\.rid: missing$/],
    ['an index of two bytes', [{ ...UNIONPAY_80, index: '0080' }], /^capk\.json: \[0\]\.index: an index is 1 byte: 2 hex digits \(got "0080"\)$/],
    ['an algorithm it does not know', [{ ...UNIONPAY_80, algorithm: 'ECC' }], /^capk\.json: \[0\]\.algorithm: .*RSA.*SM2.* \(got "ECC"\)$/],
    ['an exponent EMV does not allow', [{ ...UNIONPAY_80, exponent: '11' }], /^capk\.json: \[0\]\.exponent: EMV allows 03 or 010001 \(got "11"\)$/],
    ['a modulus too short for EMV', [{ ...UNIONPAY_80, modulus: UNIONPAY_80.modulus.slice(0, 126) }], /^capk\.json: \[0\]\.modulus: 63 bytes; EMV CA keys have 64 to 248/],
    ['an expiry that is no day', [{ ...UNIONPAY_80, expiry: '2030-02-30' }], /^capk\.json: \[0\]\.expiry: not a day of the calendar \(got "2030-02-30"\)$/],
    ['an expiry in another form', [{ ...UNIONPAY_80, expiry: '20301230' }], /^capk\.json: \[0\]\.expiry: a date YYYY-MM-DD/],
    ['a field it does not know', [{ ...UNIONPAY_80, hash: '01' }], /^capk\.json: \[0\]\.hash: not a field of a CA key/],
    ['an SM2 key without its point', [without(SM2_KEY, 'publicKey')], /^capk\.json: \[0\]\.publicKey: missing/],
    ['an SM2 point that is compressed', [{ ...SM2_KEY, publicKey: `02${SM2_POINT.slice(2, 66)}` }], /^capk\.json: \[0\]\.publicKey: an uncompressed point 04\|\|X\|\|Y of 65 bytes/],
    ['an RSA key with an SM2 point', [{ ...UNIONPAY_80, publicKey: SM2_POINT }], /^capk\.json: \[0\]\.publicKey: for SM2 keys only/],
    ['the same RID and index twice', [UNIONPAY_80, VISA_01, { ...UNIONPAY_80, rid: 'a000000333' }], /^capk\.json: \[2\]\.index: RID A000000333 index 80 appears twice \(first at \[0\]\)$/],
    ['an object instead of an array', { keys: [UNIONPAY_80] }, /^capk\.json: \(top level\): .*array/],
  ])('refuses %s, naming the entry and the field', (_, document, message) => {
    expect(error(() => parse(document)).message).toMatch(message);
  });
});

describe('loadCapkFile (the gate reads the file at start)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-capk-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a file', () => {
    const path = join(dir, 'capk.json');
    writeFileSync(path, JSON.stringify([UNIONPAY_80, MASTERCARD_05]));
    expect(loadCapkFile(path).size).toBe(2);
  });

  it('names the path in a refusal of its content', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify([{ ...UNIONPAY_80, checksum: '00'.repeat(20) }]));
    expect(inputError(() => loadCapkFile(path)).message).toMatch(new RegExp(`^${path}: \\[0\\]\\.checksum: `));
  });

  it('names the path and the reason when it cannot read or parse the file', () => {
    const missing = join(dir, 'missing.json');
    expect(inputError(() => loadCapkFile(missing)).message).toBe(`cannot read CA public keys ${missing}: ENOENT`);
    const notJson = join(dir, 'text.json');
    writeFileSync(notJson, '[{"rid": ');
    expect(inputError(() => loadCapkFile(notJson)).message).toMatch(new RegExp(`^CA public keys ${notJson} is not JSON: `));
    expect(inputError(() => loadCapkFile(dir)).message).toBe(`cannot read CA public keys ${dir}: EISDIR`);
  });
});

describe('SM2 CA keys', () => {
  it('refuses a point that is not on the curve, naming the entry', () => {
    const notOnCurve = `04${'11'.repeat(64)}`;
    expect(error(() => parse([{ rid: 'A000000333', index: 'F2', algorithm: 'SM2', publicKey: notOnCurve, expiry: '2049-12-31' }])).message).toMatch(/^capk\.json: \[0\]\.publicKey: RID A000000333 index F2: not an SM2 public key/);
  });
});
