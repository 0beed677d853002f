import { constants, createHash, createPrivateKey, createPublicKey, privateEncrypt, publicDecrypt, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CardDate } from '../src/core/credentials/emv/cardDate.js';
import { cnDigits, maskPan } from '../src/core/credentials/emv/pan.js';
import { recoverDynamicData, recoverIccKey, recoverIssuerKey, type IssuerPublicKey, type RsaPublicKey } from '../src/core/credentials/emv/rsaCertificates.js';
import type { Refusal, RefusalReason } from '../src/core/reasons.js';
import { refusalFrom } from './fixtures.js';

/*
 * EMV RSA certificate recovery (Book 2 §5.3, §6.3, §6.5) on published data:
 * - the UnionPay test card of a public personalisation script (read_file id
 *   54769375728) under the UnionPay TEST CA key A000000333 / 80; the script
 *   also holds the card's private key, which signs fDDA data here;
 * - proxmark3's EMV tests (client/src/emv/test/{dda,cda,sda}_test.c): a
 *   MasterCard card under CA A000000004 / 05 and a Visa card under
 *   A000000003 / 01, real data with live CA keys.
 * Every refusal is made by one byte changed in that data.
 */

const bytes = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const hexOf = (data: Uint8Array) => Buffer.from(data).toString('hex').toUpperCase();
const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
const sha1 = (...parts: Uint8Array[]) => new Uint8Array(parts.reduce((h, p) => h.update(p), createHash('sha1')).digest());
const withByte = (data: Uint8Array, at: number, value: number) => Uint8Array.from(data, (b, i) => (i === at ? value : b));


function expectRefused(run: () => unknown, reason: RefusalReason, detail: RegExp): Refusal {
  const error = refusalFrom(run);
  expect({ reason: error.reason, detail: error.detail }).toEqual({ reason, detail: expect.stringMatching(detail) });
  return error;
}

// ---- The UnionPay test card (perso script, DGIs 0202-0205, 8201-8205) ----

const UP_CA: RsaPublicKey = {
  modulus: bytes(
    'CCDBA686E2EFB84CE2EA01209EEB53BEF21AB6D353274FF8391D7035D76E2156CAEDD07510E07DAFCACABB7CCB0950BA2F0A3CEC313C52EE6CD09EF00401A3D6CC5F68CA5FCD0AC6132141FAFD1CFA36A2692D02DDC27EDA4CD5BEA6FF21913B513CE78BF33E6877AA5B605BC69A534F3777CBED6376BA649C72516A7E16AF85',
  ),
  exponent: bytes('010001'),
};
const UP = {
  cert90: bytes(
    '229103A5E3120F2D2862091176AA2BD4E24D69E7EEF7B9195C91EA0088AECFF47EDFA0BEEF7C391DF3B05F717DCC06FFC8EEFF90BA14212B8A52AD48B33277B2E230D40B3E76DC59778926F1D8739E106CD741DE06A7423DFBA25E02F12E543D13D1B471806526024981B7D26B4BF6E5558604CCC289F59E8A802F45FB3D9E67',
  ),
  rem92: bytes('8B643D1EAF2EA784AC205303C90E745EA2EFA5CBF02CC47D47833BB7B27ECC6962385A4B'),
  exp9F32: bytes('03'),
  cert9F46: bytes(
    '1C2AC662801523E1584B22DBE2C6AE270723D897FB197B70C5DABAF990D19637C2956021339706266E4EC3127C738A656024254507C81217CD84843DCE6D6583D162E4D4B11936F24887797F3E3ABB3A66C0FD2454C487C8FD00F51389612D83B7D048AC99565399D75C219668A6DA4130BF17A8BC3B779F4D790170A72172C7',
  ),
  rem9F48: bytes('518B0EA3ABA9343F1778545FFB49EE840BBCEA457DBAABBFD755BA0F943A08A59CFFB6066B4084767599'),
  exp9F47: bytes('010001'),
  pan5A: bytes('6228000100001117'),
  card9F69: bytes('0100000000300000'),
  /** GPO answers for contactless: DGI 9207 (RSA) and 9208 (SM), their AFLs (94). */
  afl9207: bytes('1003050018030300'),
  afl9208: bytes('280305001801010118030300'),
  /** DGI 0301 = SFI 3 record 1, the record the SM AFL marks for ODA: the value of its tag 70. */
  record0301: bytes('5A0862280001000011175F24033012315F25039507019F08020030'),
};
const PAN = '6228000100001117';
const TODAY: CardDate = { year: 2026, month: 1, day: 15 };

/** ICC private key parts as the script stores them: CRT values padded 80 00.. to a multiple of 8. */
const UP_CRT = {
  qi: '0EB41A42801F08D5C16EE593800E16C42894639D1D16FCD366FE4D80A4154B15FB25AC5C24D7607848B55F022230FE4FAD4913AD526CB928A762F183625D775B8000000000000000',
  dq: '5A2479BF4799F5A9EF236387F9341203C5091A5B08245F33560DF43EEB6592F73A8F0FC5026B8EBFAA60D1BD76F43F02B2A33ABB40357C0FB9E92568AE02CCB98000000000000000',
  dp: '3D25ADCD0731EDEBBF3F5B4EFDC13C4DE5D00AFE3CFAA2D9F00B8EED81E36AF8CCC566E050BCA1DEF2CADEAC38F492589A6FD5E7D9D32F3D1758FE0E1E2335418000000000000000',
  q: 'C1960C87E0333FCBB1C2BBEB787019D6080B33C8F5039C2BD55CC1D247398AA5DBD47FA4E1FF85F425D214B4B32A341E72C1F9FF6765D1155963BEC02E8958D98000000000000000',
  p: 'D0BAD286ED4E1CBE6CED5391A9696ED58F317E4A52D0E37C755C01225F676AB712A15D1B953BD67FB8DFB610655965352583B46B260E481661DF74FE85C20AC18000000000000000',
};

/** ISO/IEC 7816-4 padding off: up to the last 80 that only 00 bytes follow. */
function unpad(text: string): Uint8Array {
  const data = bytes(text);
  let end = data.length - 1;
  while (data[end] === 0x00) end--;
  expect(data[end]).toBe(0x80);
  return data.subarray(0, end);
}

const big = (data: Uint8Array) => BigInt(`0x${hexOf(data)}`);
const unbig = (value: bigint, length: number) => bytes(value.toString(16).padStart(length * 2, '0'));

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

/** The card's RSA key from its CRT parts: n = p*q, d from e = 65537 (9F47). */
function iccPrivateKey(): { key: KeyObject; modulus: Uint8Array; dp: bigint; d: bigint; p: bigint } {
  const [p, q, dp, dq, qi] = [UP_CRT.p, UP_CRT.q, UP_CRT.dp, UP_CRT.dq, UP_CRT.qi].map(unpad) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const n = big(p) * big(q);
  const d = inverse(65537n, (big(p) - 1n) * (big(q) - 1n));
  const modulus = unbig(n, p.length + q.length);
  const b64 = (data: Uint8Array) => Buffer.from(data).toString('base64url');
  const jwk = { kty: 'RSA', n: b64(modulus), e: b64(UP.exp9F47), d: b64(unbig(d, modulus.length)), p: b64(p), q: b64(q), dp: b64(dp), dq: b64(dq), qi: b64(qi) };
  return { key: createPrivateKey({ key: jwk, format: 'jwk' }), modulus, dp: big(dp), d, p: big(p) };
}

const ICC_PRIVATE = iccPrivateKey();
const sign = (block: Uint8Array) => new Uint8Array(privateEncrypt({ key: ICC_PRIVATE.key, padding: constants.RSA_NO_PADDING }, block));
const rawPublic = (key: RsaPublicKey, block: Uint8Array) => {
  const b64 = (data: Uint8Array) => Buffer.from(data).toString('base64url');
  const object = createPublicKey({ key: { kty: 'RSA', n: b64(key.modulus), e: b64(key.exponent) }, format: 'jwk' });
  return new Uint8Array(publicDecrypt({ key: object, padding: constants.RSA_NO_PADDING }, block));
};

const upIssuer = () => recoverIssuerKey(UP_CA, { certificate: UP.cert90, remainder: UP.rem92, exponent: UP.exp9F32, pan: PAN }, TODAY);
const upIcc = (issuer: IssuerPublicKey = upIssuer(), today = TODAY) =>
  recoverIccKey(issuer, { certificate: UP.cert9F46, remainder: UP.rem9F48, exponent: UP.exp9F47, pan: PAN, staticData: new Uint8Array(0) }, today);

/** AFL entries (Book 3 §10.2): SFI, first and last record, how many of them count for ODA. */
function aflEntries(afl: Uint8Array): { sfi: number; first: number; last: number; oda: number }[] {
  const entries = [];
  for (let at = 0; at + 4 <= afl.length; at += 4) entries.push({ sfi: afl[at]! >> 3, first: afl[at + 1]!, last: afl[at + 2]!, oda: afl[at + 3]! });
  return entries;
}

describe('the UnionPay test card under the UnionPay TEST CA key (A000000333 / 80)', () => {
  it('reads the PAN 5A as digits and masks it for logs', () => {
    expect(cnDigits(UP.pan5A)).toBe(PAN);
    expect(cnDigits(bytes('622800FF'))).toBe('622800');
    expect(maskPan(PAN)).toBe('622800******1117');
    expect(cnDigits(bytes('62280001A0001117'))).toBeUndefined();
    expect(cnDigits(bytes('6228F00100001117'))).toBeUndefined();
  });

  it('recovers the issuer key from 90 with 92 and 9F32', () => {
    const issuer = upIssuer();
    expect(issuer.issuerId).toBe('622800');
    expect(PAN.startsWith(issuer.issuerId)).toBe(true);
    expect(issuer.serial).toBe('000001');
    expect(issuer.expiry).toEqual({ year: 2030, month: 12 });
    expect(hexOf(issuer.key.exponent)).toBe('03');
    // The issuer key signs 9F46: its modulus is as long as the certificate.
    expect(issuer.key.modulus.length).toBe(UP.cert9F46.length);
  });

  it('recovers the ICC key from 9F46 over empty static data: the contactless AFL (DGI 9207) marks no record for ODA', () => {
    expect(aflEntries(UP.afl9207)).toEqual([
      { sfi: 2, first: 3, last: 5, oda: 0 },
      { sfi: 3, first: 3, last: 3, oda: 0 },
    ]);
    const icc = upIcc();
    expect(icc.pan).toBe(PAN);
    expect(icc.serial).toBe('000001');
    expect(icc.expiry).toEqual({ year: 2031, month: 12 });
    expect(hexOf(icc.key.exponent)).toBe('010001');
    // The recovered key is the one whose private parts the script loads (p*q).
    expect(hexOf(icc.key.modulus)).toBe(hexOf(ICC_PRIVATE.modulus));
    expect(ICC_PRIVATE.d % (ICC_PRIVATE.p - 1n)).toBe(ICC_PRIVATE.dp);
  });

  it('does not verify the ICC certificate over the record the SM AFL (DGI 9208) marks: that is the SM chain\'s', () => {
    expect(aflEntries(UP.afl9208).filter((e) => e.oda > 0)).toEqual([{ sfi: 3, first: 1, last: 1, oda: 1 }]);
    expectRefused(
      () => recoverIccKey(upIssuer(), { certificate: UP.cert9F46, remainder: UP.rem9F48, exponent: UP.exp9F47, pan: PAN, staticData: UP.record0301 }, TODAY),
      'bad-signature',
      /ICC certificate 9F46: hash does not match/,
    );
  });

  it('takes the certificates through the last day of their month and refuses them the day after', () => {
    expect(upIssuer().serial).toBe('000001');
    const lastDay = { year: 2030, month: 12, day: 31 };
    expect(recoverIssuerKey(UP_CA, { certificate: UP.cert90, remainder: UP.rem92, exponent: UP.exp9F32, pan: PAN }, lastDay).issuerId).toBe('622800');
    expectRefused(() => recoverIssuerKey(UP_CA, { certificate: UP.cert90, remainder: UP.rem92, exponent: UP.exp9F32, pan: PAN }, { year: 2031, month: 1, day: 1 }), 'expired', /issuer certificate 90 expired at the end of 12\/2030/);
    expect(upIcc(upIssuer(), { year: 2031, month: 12, day: 31 }).pan).toBe(PAN);
    expectRefused(() => upIcc(upIssuer(), { year: 2032, month: 1, day: 1 }), 'expired', /ICC certificate 9F46 expired at the end of 12\/2031/);
  });
});

describe('refusing the issuer certificate (90), each by one byte of published data', () => {
  const issuerInput = (change: Partial<{ certificate: Uint8Array; remainder: Uint8Array | undefined; exponent: Uint8Array; pan: string }>) => ({
    certificate: UP.cert90,
    remainder: UP.rem92,
    exponent: UP.exp9F32,
    pan: PAN,
    ...change,
  });

  it.each([
    ['a byte short of the CA modulus', { certificate: UP.cert90.subarray(0, 127) }, /90 is 127 bytes, the key's modulus 128/],
    ['not below the CA modulus', { certificate: withByte(UP.cert90, 0, 0xff) }, /not below the key's modulus/],
    ['a byte changed (garbage recovered)', { certificate: withByte(UP.cert90, 64, UP.cert90[64]! ^ 0x01) }, /does not end with BC/],
    ['exponent 02 on the card', { exponent: bytes('02') }, /exponent 02 on the card/],
    ['exponent 010001 where the certificate says 1 byte', { exponent: bytes('010001') }, /exponent 010001 on the card, certificate says 1 byte/],
    ['a byte of the remainder changed', { remainder: withByte(UP.rem92, 3, UP.rem92[3]! ^ 0x80) }, /hash does not match/],
    ['a PAN whose issuer is another', { pan: '6238000100001117' }, /issuer 622800 does not lead PAN 623800\*\*\*\*\*\*1117/],
  ])('%s: bad-signature', (_, change, detail) => {
    const error = expectRefused(() => recoverIssuerKey(UP_CA, issuerInput(change), TODAY), 'bad-signature', detail);
    expect(error.detail).not.toContain('6238000100001117');
  });

  it.each([
    ['the remainder missing', { remainder: undefined }, /key remainder 92 missing \(36 bytes needed\)/],
    ['the remainder a byte short', { remainder: UP.rem92.subarray(1) }, /key remainder 92 is 35 bytes, the certificate needs 36/],
    ['the remainder a byte long', { remainder: concat(UP.rem92, bytes('00')) }, /key remainder 92 is 37 bytes/],
  ])('%s: malformed', (_, change, detail) => {
    expectRefused(() => recoverIssuerKey(UP_CA, issuerInput(change), TODAY), 'malformed', detail);
  });

  it('refuses a PAN that is not 8 to 19 digits as malformed', () => {
    expectRefused(() => recoverIssuerKey(UP_CA, issuerInput({ pan: '62280001000011A7' }), TODAY), 'malformed', /not 8 to 19 digits/);
  });
});

/*
 * Checks inside the recovered data (header, format, algorithms, lengths)
 * cannot be reached by changing a signed certificate: the recovered data
 * turns to garbage first. So the published certificate's content, one byte
 * changed, is signed again with a published key, the test card's own, which
 * here stands in for the CA (its modulus is as long as the CA's).
 */
describe('refusing what the recovered certificate says, re-signed with the published card key', () => {
  const TEST_CA: RsaPublicKey = { modulus: ICC_PRIVATE.modulus, exponent: UP.exp9F47 };
  const ISSUER_CONTENT = rawPublic(UP_CA, UP.cert90);
  const ICC_CONTENT = rawPublic(upIssuer().key, UP.cert9F46);
  const TEST_ISSUER: IssuerPublicKey = { key: TEST_CA, issuerId: '622800', expiry: { year: 2030, month: 12 }, serial: '000001' };

  /** The content with one byte changed, its hash recomputed when asked (to reach the checks after the hash). */
  function resigned(content: Uint8Array, at: number, value: number, rehash: boolean, covered: Uint8Array[]): Uint8Array {
    const changed = withByte(content, at, value);
    if (rehash) changed.set(sha1(changed.subarray(1, changed.length - 21), ...covered), changed.length - 21);
    return sign(changed);
  }
  const issuerCert = (at: number, value: number, rehash = false) => resigned(ISSUER_CONTENT, at, value, rehash, [UP.rem92, UP.exp9F32]);
  const recoverIssuer = (certificate: Uint8Array, pan = PAN) => recoverIssuerKey(TEST_CA, { certificate, remainder: UP.rem92, exponent: UP.exp9F32, pan }, TODAY);
  const iccCert = (at: number, value: number, rehash = false) => resigned(ICC_CONTENT, at, value, rehash, [UP.rem9F48, UP.exp9F47]);
  const recoverIcc = (certificate: Uint8Array) => recoverIccKey(TEST_ISSUER, { certificate, remainder: UP.rem9F48, exponent: UP.exp9F47, pan: PAN, staticData: new Uint8Array(0) }, TODAY);

  it('recovers the published content signed again, unchanged (the harness changes nothing by itself)', () => {
    expect(hexOf(recoverIssuer(sign(ISSUER_CONTENT)).key.modulus)).toBe(hexOf(upIssuer().key.modulus));
    expect(hexOf(recoverIcc(sign(ICC_CONTENT)).key.modulus)).toBe(hexOf(ICC_PRIVATE.modulus));
  });

  it.each([
    ['header 6B', 0, 0x6b, false, /recovered header 6B, not 6A/],
    ['format 04 (an ICC certificate)', 1, 0x04, false, /format 04, not 02/],
    ['hash algorithm 02', 11, 0x02, false, /hash algorithm 2, not 1 \(SHA-1\)/],
    ['public key algorithm 02', 12, 0x02, false, /public key algorithm 2, not 1 \(RSA\)/],
    ['a key of 32 bytes', 13, 0x20, false, /certifies a key of 32 bytes under a 128-byte key/],
    ['a key longer than the CA\'s', 13, 0x81, false, /certifies a key of 129 bytes under a 128-byte key/],
    ['exponent length 3 for the card\'s 03', 14, 0x03, false, /exponent 03 on the card, certificate says 3 byte/],
    ['a serial byte changed', 8, 0x02, false, /hash does not match/],
    ['issuer identifier A22800', 2, 0xa2, true, /issuer identifier A22800FF is not 3 to 8 digits/],
    ['issuer identifier of 2 digits', 3, 0xff, true, /issuer identifier 62FF00FF is not 3 to 8 digits/],
    ['expiry month 13', 6, 0x13, true, /expiry 1330 is not MMYY/],
    ['expiry month 00', 6, 0x00, true, /expiry 0030 is not MMYY/],
  ])('issuer certificate with %s: bad-signature', (_, at, value, rehash, detail) => {
    expectRefused(() => recoverIssuer(issuerCert(at, value, rehash)), 'bad-signature', detail);
  });

  it('issuer certificate whose key length disagrees with the remainder: malformed, once the signature holds', () => {
    expectRefused(() => recoverIssuer(issuerCert(13, 0x7f, true)), 'malformed', /key remainder 92 is 36 bytes, the certificate needs 35/);
  });

  it('issuer certificate with an expiry in the past: expired, once the signature holds', () => {
    expectRefused(() => recoverIssuer(issuerCert(7, 0x25, true)), 'expired', /expired at the end of 12\/2025/);
    expectRefused(() => recoverIssuer(issuerCert(7, 0x25, false)), 'bad-signature', /hash does not match/);
  });

  it('refuses an issuer certificate presented as the ICC certificate (format 02, not 04)', () => {
    expectRefused(() => recoverIcc(sign(ISSUER_CONTENT)), 'bad-signature', /ICC certificate 9F46: format 02, not 04/);
  });

  it.each([
    ['header 6B', 0, 0x6b, false, /recovered header 6B/],
    ['format 02', 1, 0x02, false, /format 02, not 04/],
    ['hash algorithm 02', 17, 0x02, false, /hash algorithm 2/],
    ['public key algorithm 02', 18, 0x02, false, /public key algorithm 2/],
    ['exponent length 1 for the card\'s 010001', 20, 0x01, false, /exponent 010001 on the card, certificate says 1 byte/],
    ['a PAN digit changed', 9, 0x18, true, /certifies PAN 622800\*\*\*\*\*\*1118, the card's is 622800\*\*\*\*\*\*1117/],
    ['a PAN digit past the F padding', 11, 0x1f, true, /certifies a PAN that is not digits padded with F/],
  ])('ICC certificate with %s: bad-signature', (_, at, value, rehash, detail) => {
    const error = expectRefused(() => recoverIcc(iccCert(at, value, rehash)), 'bad-signature', detail);
    expect(error.detail).not.toMatch(/6228000100001117/);
  });
});

describe('refusing the ICC certificate (9F46), each by one byte of published data', () => {
  const iccInput = (change: Partial<{ certificate: Uint8Array; remainder: Uint8Array | undefined; exponent: Uint8Array; pan: string; staticData: Uint8Array }>) => ({
    certificate: UP.cert9F46,
    remainder: UP.rem9F48,
    exponent: UP.exp9F47,
    pan: PAN,
    staticData: new Uint8Array(0),
    ...change,
  });
  const issuer = upIssuer();

  it.each([
    ['a byte changed', { certificate: withByte(UP.cert9F46, 100, UP.cert9F46[100]! ^ 0x10) }, /does not end with BC/],
    ['a byte short of the issuer modulus', { certificate: UP.cert9F46.subarray(1) }, /9F46 is 127 bytes/],
    ['another PAN on the card', { pan: '6228000100001118' }, /certifies PAN 622800\*\*\*\*\*\*1117, the card's is 622800\*\*\*\*\*\*1118/],
    ['a byte of static data the certificate does not cover', { staticData: bytes('00') }, /hash does not match/],
    ['exponent 03 where the certificate says 3 bytes', { exponent: bytes('03') }, /exponent 03 on the card, certificate says 3 byte/],
  ])('%s: bad-signature', (_, change, detail) => {
    const error = expectRefused(() => recoverIccKey(issuer, iccInput(change), TODAY), 'bad-signature', detail);
    expect(error.detail).not.toMatch(/622800010000111[78]/);
  });

  it.each([
    ['the remainder 9F48 missing', { remainder: undefined }, /key remainder 9F48 missing \(42 bytes needed\)/],
    ['the remainder a byte long', { remainder: concat(UP.rem9F48, bytes('99')) }, /key remainder 9F48 is 43 bytes, the certificate needs 42/],
  ])('%s: malformed', (_, change, detail) => {
    expectRefused(() => recoverIccKey(issuer, iccInput(change), TODAY), 'malformed', detail);
  });
});

describe('fDDA signed dynamic data (9F4B) from the test card, signed here with its published private key', () => {
  const icc = upIcc();
  const N = icc.key.modulus.length;
  // fDDA version 01 (9F69 byte 1 = 01): SHA-1 over the data, then 9F37, 9F02, 5F2A, 9F69 (CARDS.md §1).
  const TERMINAL = concat(bytes('1A2B3C4D'), bytes('000000000200'), bytes('0156'), UP.card9F69);
  const ATC = bytes('0001');

  /** 6A 05 01 Ldd | data | BB.. | hash | BC, with `change` applied to the block before hashing. */
  function signedDynamic(dynamicData: Uint8Array, change: (block: Uint8Array) => void = () => {}, terminal = TERMINAL): Uint8Array {
    const block = new Uint8Array(N).fill(0xbb);
    block.set([0x6a, 0x05, 0x01, dynamicData.length], 0);
    block.set(dynamicData, 4);
    block[N - 1] = 0xbc;
    change(block);
    block.set(sha1(block.subarray(1, N - 21), terminal), N - 21);
    return sign(block);
  }
  const genuine = signedDynamic(concat(bytes('02'), ATC));

  it('recovers the ICC dynamic data and the dynamic number (the ATC)', () => {
    const { dynamicData, iccDynamicNumber } = recoverDynamicData(icc, genuine, TERMINAL);
    expect(hexOf(dynamicData)).toBe('020001');
    expect(hexOf(iccDynamicNumber)).toBe(hexOf(ATC));
  });

  it.each([
    ['a byte short', () => recoverDynamicData(icc, genuine.subarray(1), TERMINAL), /9F4B is 127 bytes/],
    ['a byte changed', () => recoverDynamicData(icc, withByte(genuine, 9, genuine[9]! ^ 0x01), TERMINAL), /does not end with BC/],
    ['replayed with another unpredictable number (a clone replaying a recorded tap)', () => recoverDynamicData(icc, genuine, withByte(TERMINAL, 0, 0x1b)), /hash does not match/],
    ['another amount', () => recoverDynamicData(icc, genuine, withByte(TERMINAL, 9, 0x03)), /hash does not match/],
    ['header 6B', () => recoverDynamicData(icc, signedDynamic(bytes('020001'), (b) => (b[0] = 0x6b)), TERMINAL), /header 6B/],
    ['format 03 (signed static data)', () => recoverDynamicData(icc, signedDynamic(bytes('020001'), (b) => (b[1] = 0x03)), TERMINAL), /format 03, not 05/],
    ['hash algorithm 02', () => recoverDynamicData(icc, signedDynamic(bytes('020001'), (b) => (b[2] = 0x02)), TERMINAL), /hash algorithm 2/],
    ['dynamic data longer than the block holds', () => recoverDynamicData(icc, signedDynamic(bytes('020001'), (b) => (b[3] = 0x68)), TERMINAL), /dynamic data of 104 bytes does not fit/],
    ['a dynamic number of 1 byte', () => recoverDynamicData(icc, signedDynamic(bytes('0100')), TERMINAL), /ICC dynamic number of 1 bytes/],
    ['a dynamic number longer than the data', () => recoverDynamicData(icc, signedDynamic(bytes('030001')), TERMINAL), /ICC dynamic number of 3 bytes in 3 bytes/],
    ['a signature of another key (the issuer certificate 90) in 9F4B', () => recoverDynamicData(icc, UP.cert90, TERMINAL), /does not end with BC/],
  ])('%s: card-auth-failed', (_, run, detail) => {
    expectRefused(run, 'card-auth-failed', detail);
  });

  it('takes the longest dynamic data the block holds (N - 25 bytes)', () => {
    const longest = concat(bytes('08'), new Uint8Array(N - 26).fill(0x11));
    expect(recoverDynamicData(icc, signedDynamic(longest), TERMINAL).dynamicData.length).toBe(N - 25);
  });
});

// ---- proxmark3 client/src/emv/test: real cards under live CA keys ----

const MC_CA_05: RsaPublicKey = {
  modulus: bytes(
    'B8048ABC30C90D976336543E3FD7091C8FE4800DF820ED55E7E94813ED00555B573FECA3D84AF6131A651D66CFF4284FB13B635EDD0EE40176D8BF04B7FD1C7BACF9AC7327DFAA8AA72D10DB3B8E70B2DDD811CB4196525EA386ACC33C0D9D4575916469C4E4F53E8E1C912CC618CB22DDE7C3568E90022E6BBA770202E4522A2DD623D180E215BD1D1507FE3DC90CA310D27B3EFCCD8F83DE3052CAD1E48938C68D095AAC91B5F37E28BB49EC7ED597',
  ),
  exponent: bytes('03'),
};
const MC = {
  issuerCert: bytes(
    '1714284F763B8586EE6D319951F7E63FA25076E50DC9D3200BA998D3A052ADBA9AB69AC6AD6ADD3CE09F0278F4074EC4EE9B1D2268A3E953575E454E50CD860BF424C51C597712D2AA057089DD8673E51B1E1D7188034892077AC18A6AE23488BEA9DF3B1A83F2C0800CD7C5CDF2FDE0496F7BC39FB4BF363299BFA637B2EC33C507E36821EEC2075F0E420D38A1C9F3127261BA316C987674FADB20EA7FEB75EE455D12146EA6F02E8B01EC2FA7A115',
  ),
  issuerRem: bytes('6E63B7BC70ABDD09341B34C03286BA9BD83BA7936C5B7798FB22C5E53FF240A26DBD6415'),
  iccCert: bytes(
    'A42FBEB156B98DCB0554DA062ADCA5309A91F04FA2C7BD7102A8D73F16A3CFADE8AADF4F3FE2A2125CCDD77C6B9F78B5B4371CE0805725B0F9C027AF147D91E1FFDB201E9C170CE777053A172AD526DCAFD33895E1A947305C5B167F2E7C6F991581A652EE473154760C2ED774214E50DFECDD4CF294C974B89EBCA25B5AB3C0BEB50DFAF782AFDE1433D90CA2A89D651E75D67EBC7C3E36F5A165EE6132612939C1ECD399E46074B996D93A88E01E0A',
  ),
  /** The ODA records (5F25 .. 8D) and the AIP 3900 that 9F4A (82) adds. */
  ssd1: bytes(
    '5F25031405015F24031506305A0852858812543456535F3401018E0C00000000000000001E031F039F0702FF009F0D05BC50BC00009F0E0500000000009F0F05BC70BC98009F4A01825F280206438C219F02069F03069F1A0295055F2A029A039C019F37049F35019F45029F4C089F34038D0C910A8A0295059F37049F4C083900',
  ),
  pan: '5285881254345653',
  ddaSdad: bytes(
    '3D87F31056102D2512CFDE30900627C1263A76D1DAA821F50831E606C54544C258131EAEBE874DCB1A28CF82D3FF91118260BC91113711D3B289FA41BE69C7A7B5C783E6F8F97FCE13F08B13FA44183E3718CEBF0C41473D2B0FF4DE44B6A02D75ADB6D4962393FFDF4E69026CDF38FF',
  ),
  ddaUn: bytes('00000000'),
  cdaSdad: bytes(
    '1C009FC48679157DBFF45F65D33FF78D4FCBF0CF5EA4208D107AE95AA38C546D0E5A18B87403A12BD447A8BBFC1E49CE0B2E251389205703C9BB1A88CC79F1DDC2F9841EADF07CE07B62511DDC93DF59F28F0E91F92332D29CDEF2BCCB1008850500EF3E470A4CB18CD91AA5C1A108F3',
  ),
  cdaUn: bytes('12345779'),
  /** CDOL1 data and the GENERATE AC answer without 9F4B: what the transaction data hash covers. */
  cdaCrm1: bytes('000000000000000000000000064300000000000643140925501234577923000000000000000000001E0300'),
  cdaDd2: bytes('9F2701409F360200109F10120010904001220000000000000000000000FF'),
};
/** The transaction date 9A in the CDOL1 data of cda_test.c: 14 09 25. */
const MC_DAY: CardDate = { year: 2014, month: 9, day: 25 };

const VISA_CA_01: RsaPublicKey = {
  modulus: bytes(
    'C696034213D7D8546984579D1D0F0EA519CFF8DEFFC429354CF3A871A6F7183F1228DA5C7470C055387100CB935A712C4E2864DF5D64BA93FE7E63E71F25B1E5F5298575EBE1C63AA617706917911DC2A75AC28B251C7EF40F2365912490B939BCA2124A30A28F54402C34AECA331AB67E1E79B285DD5771B5D9FF79EA630B75',
  ),
  exponent: bytes('03'),
};
const VISA = {
  issuerCert: bytes(
    '3C5FEAD4DD7BCA44F93E90C44F76EDE54A3288ECDC78469FCB1225C03B2C04F2C2F412281A0822DF14649230989FB1494070DAF8C9534A7881960148616ACE581788120D3506ACE4CEE564FB27EE53341C22F0B45B31873D05DE545EFE33BCD29B2185D035A806AD08C6976F3505A19999930CA8A03EFA321C486061F7DCEC9F',
  ),
  issuerRem: bytes('1EBCA30F00CE5962A8C6E130544B82891B236C65DE29317F364735DEE63F6598975835D5'),
  ssad: bytes(
    '99A558B62B674AA5E7D2A57E5EF6A6F2258E5DA052D05B54E5C115FF1CECF94AA2DF8F39A01D71C619EB819DA52EF381E84979586AEA7855FFBEF40AA3A71CD3B04CFDF270AEC8158A2797F24FD613B748134661135CD290E45B04A8E0CCC711AE042F159E73C89C2A7E65A4C2FD1D6106024AA27130B0ECEC0238F91659DE96',
  ),
  /** 5A in the test's static data. */
  pan: '4276550013234599',
};

describe('proxmark3 EMV tests: a MasterCard card (CA 05, 1408 bits, e = 3)', () => {
  const issuer = recoverIssuerKey(MC_CA_05, { certificate: MC.issuerCert, remainder: MC.issuerRem, exponent: bytes('03'), pan: MC.pan }, MC_DAY);
  const icc = recoverIccKey(issuer, { certificate: MC.iccCert, exponent: bytes('03'), pan: MC.pan, staticData: MC.ssd1 }, MC_DAY);

  it('recovers the issuer key (with remainder) and the ICC key (without) over the ODA records and the AIP', () => {
    expect(MC.pan.startsWith(issuer.issuerId)).toBe(true);
    expect(issuer.key.modulus.length).toBe(MC.iccCert.length);
    expect(icc.pan).toBe(cnDigits(bytes('5285881254345653')));
    expect(icc.key.modulus.length).toBe(MC.ddaSdad.length);
    expect(hexOf(icc.key.exponent)).toBe('03');
  });

  it('recovers the DDA signature over the DDOL data (9F37 = 00000000): an 8-byte ICC dynamic number', () => {
    const { dynamicData, iccDynamicNumber } = recoverDynamicData(icc, MC.ddaSdad, MC.ddaUn);
    expect(iccDynamicNumber.length).toBe(8);
    expect(dynamicData[0]).toBe(8);
  });

  it('recovers the CDA signature over 9F37; its data holds CID 40 and the hash of the CDOL1 data and the GENERATE AC answer', () => {
    const { dynamicData, iccDynamicNumber } = recoverDynamicData(icc, MC.cdaSdad, MC.cdaUn);
    expect(iccDynamicNumber.length).toBe(8);
    expect(dynamicData[9]).toBe(0x40);
    expect(hexOf(dynamicData.subarray(18, 38))).toBe(hexOf(sha1(MC.cdaCrm1, MC.cdaDd2)));
    expectRefused(() => recoverDynamicData(icc, MC.cdaSdad, MC.ddaUn), 'card-auth-failed', /hash does not match/);
  });

  it('refuses the ICC certificate without the AIP the tag list 9F4A adds, and with a remainder it does not need', () => {
    expectRefused(() => recoverIccKey(issuer, { certificate: MC.iccCert, exponent: bytes('03'), pan: MC.pan, staticData: MC.ssd1.subarray(0, -2) }, MC_DAY), 'bad-signature', /hash does not match/);
    expectRefused(() => recoverIccKey(issuer, { certificate: MC.iccCert, remainder: bytes('00'), exponent: bytes('03'), pan: MC.pan, staticData: MC.ssd1 }, MC_DAY), 'malformed', /9F48 is 1 bytes, the certificate needs 0/);
  });

  it('refuses the ICC certificate after its month (06/2015), under an issuer certificate still valid', () => {
    const later: CardDate = { year: 2015, month: 7, day: 1 };
    const stillValid = recoverIssuerKey(MC_CA_05, { certificate: MC.issuerCert, remainder: MC.issuerRem, exponent: bytes('03'), pan: MC.pan }, later);
    expectRefused(() => recoverIccKey(stillValid, { certificate: MC.iccCert, exponent: bytes('03'), pan: MC.pan, staticData: MC.ssd1 }, later), 'expired', /06\/2015/);
  });

  it('refuses the issuer certificate under the wrong CA key (Visa 01): its length is not the modulus\'s', () => {
    expectRefused(() => recoverIssuerKey(VISA_CA_01, { certificate: MC.issuerCert, remainder: MC.issuerRem, exponent: bytes('03'), pan: MC.pan }, MC_DAY), 'bad-signature', /176 bytes, the key's modulus 128/);
  });
});

describe('proxmark3 EMV tests: a Visa card (CA 01, 1024 bits, e = 3)', () => {
  it('recovers the issuer key that signs its static data (93)', () => {
    const issuer = recoverIssuerKey(VISA_CA_01, { certificate: VISA.issuerCert, remainder: VISA.issuerRem, exponent: bytes('03'), pan: VISA.pan }, { year: 2008, month: 12, day: 31 });
    expect(VISA.pan.startsWith(issuer.issuerId)).toBe(true);
    expect(issuer.key.modulus.length).toBe(VISA.ssad.length);
  });
});
