import { constants, createHash, createPublicKey, publicDecrypt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { CardChannel, CardReaderEvent } from '../hal/cardReader.js';
import { PcscCardReader } from '../hal/pcsc/pcscCardReader.js';
import { issuerBankCard, initTestCas } from '../sim/emv/bankCardCommand.js';
import { loadBankCard, saveBankCard } from '../sim/emv/bankCardFile.js';
import { EXTENDED_PDOL, personaliseBankCard, type BankCardOptions } from '../sim/emv/bankCardProfile.js';
import { capkChecksum, capkEntry, type CapkEntry } from '../sim/emv/capkFile.js';
import { makeCardIssuer, type CardIssuer } from '../sim/emv/cardIssuer.js';
import { PUBLISHED_TEST_AID, publishedTestCard, UNIONPAY_TEST_CAPK } from '../sim/emv/publishedTestCard.js';
import { sm2PublicKey, sm2Sign } from '../sim/emv/sm2Signer.js';
import { makeTestCa, type TestCa } from '../sim/emv/testCa.js';
import { VirtualBankCard } from '../sim/emv/virtualBankCard.js';
import type { ApduResponder } from '../sim/virtualCard.js';
import type { PcscdProcess } from '../sim/pcscdProcess.js';
import { VpcdCard } from '../sim/vpcdCard.js';
import { simChannel } from './fixtures.js';
import { startPrivatePcscd } from './support/pcscd.js';

/*
 * The simulated qPBOC cards, checked with code written here and nowhere else:
 * a BER-TLV reader, raw RSA recovery with node's crypto and SHA-1, and an SM2
 * verifier (its arithmetic written out here; first proven on the published
 * card's real SM2 certificates). The gate's EMV code is not used: a bug there
 * must not be mirrored here.
 */

const h = (text: string): Buffer => Buffer.from(text, 'hex');
const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase();

// ---- BER-TLV, EMV Book 3 Annex B ----

interface Tlv {
  tag: string;
  value: Buffer;
}

function tlvList(bytes: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] === 0x00 || bytes[at] === 0xff) {
      at++;
      continue;
    }
    const start = at;
    if ((bytes[at++]! & 0x1f) === 0x1f) while (bytes[at++]! & 0x80);
    const tag = hexOf(bytes.subarray(start, at));
    let length = bytes[at++]!;
    if (length & 0x80) {
      const n = length & 0x7f;
      length = bytes.subarray(at, at + n).reduce((acc, b) => acc * 256 + b, 0);
      at += n;
    }
    if (at + length > bytes.length) throw new Error(`TLV ${tag} overruns`);
    out.push({ tag, value: bytes.subarray(at, at + length) });
    at += length;
  }
  return out;
}

/** Every primitive object, templates opened (bit 6 of the first tag byte). */
function flatten(bytes: Buffer, into = new Map<string, Buffer>()): Map<string, Buffer> {
  for (const { tag, value } of tlvList(bytes)) {
    if (Number.parseInt(tag.slice(0, 2), 16) & 0x20) flatten(value, into);
    else into.set(tag, value);
  }
  return into;
}

function dol(bytes: Buffer): { tag: string; length: number }[] {
  const out: { tag: string; length: number }[] = [];
  let at = 0;
  while (at < bytes.length) {
    const start = at;
    if ((bytes[at++]! & 0x1f) === 0x1f) while (bytes[at++]! & 0x80);
    out.push({ tag: hexOf(bytes.subarray(start, at)), length: bytes[at++]! });
  }
  return out;
}

// ---- a terminal ----

const TERMINAL: Record<string, string> = {
  '9F66': '28000080',
  '9F02': '000000000200',
  '9F03': '000000000000',
  '9F1A': '0156',
  '95': '0000000000',
  '5F2A': '0156',
  '9A': '270115',
  '9C': '00',
  DF60: '00',
  DF69: '01',
};

function send(card: ApduResponder, apdu: string): { data: Buffer; sw: string } {
  const response = Buffer.from(card.respond(h(apdu)));
  return { data: response.subarray(0, -2), sw: hexOf(response.subarray(-2)) };
}

function ok(card: ApduResponder, apdu: string): Buffer {
  const { data, sw } = send(card, apdu);
  expect(sw, apdu).toBe('9000');
  return data;
}

const apdu = (header: string, data: Buffer, le = '00'): string => `${header}${hexOf(Buffer.from([data.length]))}${hexOf(data)}${le}`;

/** One command to a card (in-process or through a reader), the response with its status word. */
type Link = (apdu: string) => Promise<Buffer>;
const direct =
  (card: ApduResponder): Link =>
  async (command) =>
    Buffer.from(card.respond(h(command)));

async function okVia(link: Link, command: string): Promise<Buffer> {
  const response = await link(command);
  expect(hexOf(response.subarray(-2)), command).toBe('9000');
  return response.subarray(0, -2);
}

interface Tap {
  aids: string[];
  fci: Map<string, Buffer>;
  pdolData: Buffer;
  terminal: Map<string, Buffer>;
  gpo: Map<string, Buffer>;
  /** Every primitive object read from the records. */
  card: Map<string, Buffer>;
  /** The values of the `70` templates the AFL counts for ODA, || AIP when 9F4A lists it. */
  staticData: Buffer;
}

/** A fresh card session: SELECT PPSE, SELECT the first application, GPO with the PDOL filled by tag, READ RECORD per the AFL. */
function tap(card: ApduResponder, un = '11223344', selectAid?: string): Promise<Tap> {
  card.reset();
  return tapVia(direct(card), un, selectAid);
}

async function tapVia(link: Link, un = '11223344', selectAid?: string): Promise<Tap> {
  let aids: string[] = [];
  if (!selectAid) {
    // 6F { 84 name, A5 { BF0C { 61 { 4F AID, 50, 87 } ... } } }
    const fci = tlvList(tlvList(await okVia(link, '00A404000E325041592E5359532E444446303100'))[0]!.value);
    const directory = tlvList(tlvList(fci.find((t) => t.tag === 'A5')!.value).find((t) => t.tag === 'BF0C')!.value);
    aids = directory.filter((entry) => entry.tag === '61').map((entry) => hexOf(flatten(entry.value).get('4F')!));
  }
  const aid = selectAid ?? aids[0]!;
  const fci = flatten(await okVia(link, apdu('00A40400', h(aid))));
  const terminal = new Map(Object.entries({ ...TERMINAL, '9F37': un }).map(([k, v]) => [k, h(v)]));
  const pdolData = Buffer.concat(dol(fci.get('9F38')!).map(({ tag, length }) => terminal.get(tag) ?? Buffer.alloc(length)));
  const gpo = flatten(await okVia(link, apdu('80A80000', Buffer.concat([h('83'), Buffer.from([pdolData.length]), pdolData]))));
  const records = new Map<string, Buffer>();
  const odaParts: Buffer[] = [];
  const afl = gpo.get('94')!;
  for (let i = 0; i < afl.length; i += 4) {
    const [sfiByte, first, last, odaCount] = afl.subarray(i, i + 4) as unknown as [number, number, number, number];
    for (let rec = first; rec <= last; rec++) {
      const record = tlvList(await okVia(link, `00B2${hexOf(Buffer.from([rec, sfiByte | 4]))}00`));
      expect(record.map((t) => t.tag)).toEqual(['70']);
      flatten(record[0]!.value, records);
      if (rec - first < odaCount) odaParts.push(record[0]!.value);
    }
  }
  const tagList = records.get('9F4A');
  if (tagList) {
    expect(hexOf(tagList)).toBe('82');
    odaParts.push(gpo.get('82')!);
  }
  return { aids, fci, pdolData, terminal, gpo, card: records, staticData: Buffer.concat(odaParts) };
}

// ---- RSA, EMV Book 2 §5-6 ----

/** Raw RSA public operation; undefined when OpenSSL refuses (a signature made under another key may exceed this modulus). */
function recover(signed: Buffer, modulus: Buffer, exponent: Buffer): Buffer | undefined {
  expect(signed.length).toBe(modulus.length);
  const key = createPublicKey({ key: { kty: 'RSA', n: modulus.toString('base64url'), e: exponent.toString('base64url') }, format: 'jwk' });
  try {
    return publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signed);
  } catch {
    return undefined;
  }
}

/** Recovered block: 6A, format, trailer BC, and SHA-1(block[1 .. N-21] || hashedAfter) in place. */
function checkBlock(block: Buffer | undefined, format: number, hashedAfter: Buffer): block is Buffer {
  if (!block) return false;
  const n = block.length;
  if (block[0] !== 0x6a || block[1] !== format || block[n - 1] !== 0xbc) return false;
  const hash = createHash('sha1').update(block.subarray(1, n - 21)).update(hashedAfter).digest();
  return hash.equals(block.subarray(n - 21, n - 1));
}

interface RsaKey {
  modulus: Buffer;
  exponent: Buffer;
}

/** CA -> issuer (90, 92, 9F32) -> ICC (9F46, 9F48, 9F47 and the static data). Returns the ICC key, or throws which step failed. */
function rsaChain(ca: RsaKey, card: Map<string, Buffer>, staticData: Buffer): { icc: RsaKey; issuerBlock: Buffer; iccBlock: Buffer } {
  const issuerRemainder = card.get('92') ?? Buffer.alloc(0);
  const issuerExponent = card.get('9F32')!;
  const issuerBlock = recover(card.get('90')!, ca.modulus, ca.exponent);
  if (!checkBlock(issuerBlock, 0x02, Buffer.concat([issuerRemainder, issuerExponent]))) throw new Error('issuer certificate');
  const issuerLength = issuerBlock[13]!;
  const issuerModulus = Buffer.concat([issuerBlock.subarray(15, issuerBlock.length - 21), issuerRemainder]).subarray(0, issuerLength);
  const issuerId = hexOf(issuerBlock.subarray(2, 6)).replace(/F+$/, '');
  expect(hexOf(card.get('5A')!).startsWith(issuerId)).toBe(true);

  const iccRemainder = card.get('9F48') ?? Buffer.alloc(0);
  const iccExponent = card.get('9F47')!;
  const iccBlock = recover(card.get('9F46')!, issuerModulus, issuerExponent);
  if (!checkBlock(iccBlock, 0x04, Buffer.concat([iccRemainder, iccExponent, staticData]))) throw new Error('ICC certificate');
  expect(hexOf(iccBlock.subarray(2, 12)).replace(/F+$/, '')).toBe(hexOf(card.get('5A')!).replace(/F$/, ''));
  const iccModulus = Buffer.concat([iccBlock.subarray(21, iccBlock.length - 21), iccRemainder]).subarray(0, iccBlock[19]!);
  return { icc: { modulus: iccModulus, exponent: iccExponent }, issuerBlock, iccBlock };
}

/** The terminal's data of fDDA: 9F37, or for version 01 (9F69 byte 1 = 01) 9F37 || 9F02 || 5F2A || 9F69. */
function fddaTerminalData(t: Tap): Buffer {
  const cad = t.card.get('9F69');
  const parts = [t.terminal.get('9F37')!];
  if (cad?.[0] === 0x01) parts.push(t.terminal.get('9F02')!, t.terminal.get('5F2A')!, cad);
  return Buffer.concat(parts);
}

/** 9F4B format 05: returns the ATC inside the ICC dynamic data, or undefined when the signature fails. */
function rsaFdda(icc: RsaKey, sdad: Buffer, terminalData: Buffer): Buffer | undefined {
  const block = recover(sdad, icc.modulus, icc.exponent);
  if (!checkBlock(block, 0x05, terminalData) || block[2] !== 0x01) return undefined;
  const ldd = block[3]!;
  expect(block.subarray(4 + ldd, block.length - 21).every((b) => b === 0xbb)).toBe(true);
  expect(block[4]).toBe(2); // ICC dynamic number: the 2-byte ATC
  return block.subarray(5, 7);
}

// ---- SM2 verify, GB/T 32918.2 §7 ----

const SM2 = {
  p: BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF'),
  a: BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC'),
  b: BigInt('0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93'),
  n: BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123'),
  h: 1n,
  Gx: BigInt('0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7'),
  Gy: BigInt('0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0'),
};
const SM2Point = weierstrass(SM2);
const be32 = (x: bigint): Buffer => h(x.toString(16).padStart(64, '0'));
const num = (b: Buffer): bigint => BigInt(`0x${b.toString('hex')}`);

function sm2Verify(publicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  const id = Buffer.from('1234567812345678');
  const za = createHash('sm3')
    .update(Buffer.concat([h('0080'), id, be32(SM2.a), be32(SM2.b), be32(SM2.Gx), be32(SM2.Gy), publicKey]))
    .digest();
  const e = num(createHash('sm3').update(za).update(message).digest());
  const [r, s] = [num(signature.subarray(0, 32)), num(signature.subarray(32, 64))];
  if (r < 1n || r >= SM2.n || s < 1n || s >= SM2.n) return false;
  const t = (r + s) % SM2.n;
  if (t === 0n) return false;
  const q = SM2Point.fromBytes(Buffer.concat([h('04'), publicKey]));
  const x1 = SM2Point.BASE.multiply(s).add(q.multiply(t)).toAffine().x;
  return (e + x1) % SM2.n === r;
}

/** CA public key (X||Y) -> issuer certificate 12 -> ICC certificate 14 (over the certificate || static data). Returns the ICC key. */
function sm2Chain(caPublicKey: Buffer, card: Map<string, Buffer>, staticData: Buffer): Buffer {
  const issuerCert = card.get('90')!;
  expect(issuerCert.length).toBe(14 + 64 + 64);
  expect(hexOf(issuerCert.subarray(0, 1))).toBe('12');
  expect(hexOf(issuerCert.subarray(10, 14))).toBe('04001140');
  if (!sm2Verify(caPublicKey, issuerCert.subarray(0, 78), issuerCert.subarray(78))) throw new Error('issuer certificate');
  const iccCert = card.get('9F46')!;
  expect(iccCert.length).toBe(20 + 64 + 64);
  expect(hexOf(iccCert.subarray(0, 1))).toBe('14');
  expect(hexOf(iccCert.subarray(16, 20))).toBe('04000440');
  expect(hexOf(iccCert.subarray(1, 11)).replace(/F+$/, '')).toBe(hexOf(card.get('5A')!).replace(/F$/, ''));
  if (!sm2Verify(issuerCert.subarray(14, 78), Buffer.concat([iccCert.subarray(0, 84), staticData]), iccCert.subarray(84))) throw new Error('ICC certificate');
  return iccCert.subarray(20, 84);
}

/** 9F4B = 15 | LDD | 02 ATC | r||s over 15 | LDD | 02 ATC || terminal data: the ATC, or undefined when the signature fails. */
function sm2Fdda(iccPublicKey: Buffer, sdad: Buffer, terminalData: Buffer): Buffer | undefined {
  expect(sdad[0]).toBe(0x15);
  const ldd = sdad[1]!;
  expect(sdad.length).toBe(2 + ldd + 64);
  const signed = sdad.subarray(0, 2 + ldd);
  if (!sm2Verify(iccPublicKey, Buffer.concat([signed, terminalData]), sdad.subarray(2 + ldd))) return undefined;
  expect(sdad[2]).toBe(2);
  return sdad.subarray(3, 5);
}

// ---- fixtures: test CAs (made once) ----

const rsaCa = makeTestCa({ algorithm: 'RSA' });
const rsaCa1408 = makeTestCa({ algorithm: 'RSA', index: 'F3', bits: 1408, exponent: 3 });
const sm2Ca = makeTestCa({ algorithm: 'SM2' });
const rsaIssuer = makeCardIssuer(rsaCa);
const sm2Issuer = makeCardIssuer(sm2Ca);
const PAN = '6228000000000017';

function capkRsa(entry: CapkEntry): RsaKey {
  return { modulus: h(entry.modulus!), exponent: h(entry.exponent!) };
}
function capkSm2(entry: CapkEntry): Buffer {
  expect(entry.publicKey!.slice(0, 2)).toBe('04');
  return h(entry.publicKey!.slice(2));
}
const card = (issuer: CardIssuer, options: Partial<BankCardOptions> = {}): VirtualBankCard => new VirtualBankCard(personaliseBankCard(issuer, { pan: PAN, ...options }));

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('SM2 signer and the test\'s SM2 verifier', () => {
  it('signs the GM/T 0003.5 example (recommended curve, id 1234567812345678) to the published r and s', () => {
    const d = BigInt('0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8');
    const k = BigInt('0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21');
    const signature = sm2Sign(d, Buffer.from('message digest'), { k });
    expect(hexOf(signature)).toBe(
      'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3' + 'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA',
    );
    expect(sm2Verify(sm2PublicKey(d), Buffer.from('message digest'), signature)).toBe(true);
    expect(sm2Verify(sm2PublicKey(d), Buffer.from('message digesT'), signature)).toBe(false);
  });

  it('verifies the published card\'s real SM2 ICC certificate and 93 under its issuer key (static data: SFI 3 record 1)', () => {
    const published = publishedTestCard();
    ok(published, apdu('00A40400', h(PUBLISHED_TEST_AID)));
    const read = (sfi: number, rec: number): Buffer => tlvList(ok(published, `00B2${hexOf(Buffer.from([rec, (sfi << 3) | 4]))}00`))[0]!.value;
    const sm = flatten(Buffer.concat([read(5, 3), read(5, 4), read(5, 5)]));
    const staticData = read(3, 1); // DGI 9208's AFL counts SFI 3 record 1 (DGI 0301)
    const issuerKey = sm.get('90')!.subarray(14, 78);
    const iccCert = sm.get('9F46')!;
    expect(sm2Verify(issuerKey, Buffer.concat([iccCert.subarray(0, 84), staticData]), iccCert.subarray(84))).toBe(true);
    expect(sm2Verify(issuerKey, iccCert.subarray(0, 84), iccCert.subarray(84))).toBe(false);
    const ssad = sm.get('93')!;
    expect(sm2Verify(issuerKey, Buffer.concat([ssad.subarray(0, 3), staticData]), ssad.subarray(3))).toBe(true);
  });
});

describe('the published UnionPay test card', () => {
  it('presents the published records byte for byte and its chain verifies under the test CA index 80 with no static data', async () => {
    expect(capkChecksum(UNIONPAY_TEST_CAPK)).toBe(UNIONPAY_TEST_CAPK.checksum);
    const published = publishedTestCard();
    const t = await tap(published);
    expect(t.aids).toEqual([PUBLISHED_TEST_AID]);
    expect(hexOf(t.fci.get('9F38')!)).toBe('9F66049F02069F03069F1A0295055F2A029A039C019F3704DF6901');
    expect(hexOf(t.gpo.get('94')!)).toBe('1003050018030300'); // DGI 9207: no record counted for ODA
    expect(t.staticData.length).toBe(0);
    // DGI 0203 as the script stores it: 70 L 90 81 80 <certificate> 8F 01 80 9F32 01 03 92 24 <remainder>
    const dgi0203 = ok(published, '00B2031400');
    expect(hexOf(dgi0203.subarray(0, 9))).toBe('7081B0908180229103');
    expect(hexOf(dgi0203.subarray(-45))).toBe('8F01809F3201039224' + '8B643D1EAF2EA784AC205303C90E745EA2EFA5CBF02CC47D47833BB7B27ECC6962385A4B');

    const { icc, issuerBlock, iccBlock } = rsaChain(capkRsa(UNIONPAY_TEST_CAPK), t.card, t.staticData);
    expect(hexOf(issuerBlock.subarray(2, 8))).toBe('622800FF1230'); // issuer id 622800, expires 12/30
    expect(hexOf(iccBlock.subarray(12, 14))).toBe('1231');
    // The hash covers the static data: any record's bytes in it would break it.
    expect(() => rsaChain(capkRsa(UNIONPAY_TEST_CAPK), t.card, h('5A0862280001000011175F24033012315F25039507019F08020030'))).toThrow('ICC certificate');
    // fDDA 01 (9F69 = 01...) signed with the published ICC key.
    expect(hexOf(t.card.get('9F69')!)).toBe('0100000000300000');
    expect(hexOf(rsaFdda(icc, t.gpo.get('9F4B')!, fddaTerminalData(t))!)).toBe(hexOf(t.gpo.get('9F36')!));
    expect(hexOf(t.gpo.get('9F36')!)).toBe('0001');
    expect(hexOf(t.gpo.get('57')!)).toBe('6228000100001117D30122010123456789');
  });
});

describe('a personalised RSA card', () => {
  it.each([
    ['1024-bit CA, e = 65537', rsaCa],
    ['1408-bit CA, e = 3', rsaCa1408],
  ])('reads and verifies like a real qPBOC card (%s)', async (_name, ca) => {
    const issuer = ca === rsaCa ? rsaIssuer : makeCardIssuer(ca);
    const c = card(issuer, { psn: '02', expiry: '281130', effective: '230601', iccCertExpiry: '1128' });
    const t = await tap(c);
    expect(t.aids).toEqual(['A000000333010101']);
    expect(hexOf(t.card.get('5A')!)).toBe(PAN);
    expect(hexOf(t.card.get('5F24')!)).toBe('281130');
    expect(hexOf(t.card.get('5F25')!)).toBe('230601');
    expect(hexOf(t.card.get('5F34')!)).toBe('02');
    expect(hexOf(t.gpo.get('5F34')!)).toBe('02');
    expect(hexOf(t.card.get('8F')!)).toBe(ca.index);
    expect(hexOf(t.card.get('9F08')!)).toBe('0030');
    expect(hexOf(t.gpo.get('9F27')!)).toBe('40');
    expect(t.gpo.get('9F26')!.length).toBe(8);
    expect(hexOf(t.gpo.get('57')!)).toMatch(new RegExp(`^${PAN}D2811201`));
    expect(t.staticData.length).toBeGreaterThan(2);

    const { icc, issuerBlock, iccBlock } = rsaChain(capkRsa(capkEntry(ca)), t.card, t.staticData);
    expect(hexOf(issuerBlock.subarray(2, 8))).toBe('622800FF1249');
    expect(hexOf(iccBlock.subarray(12, 14))).toBe('1128');
    expect(hexOf(rsaFdda(icc, t.gpo.get('9F4B')!, fddaTerminalData(t))!)).toBe('0001');
  });

  it('signs over the unpredictable number (and amount, currency, 9F69 for fDDA 01), and counts each GPO', async () => {
    const c = card(rsaIssuer);
    const first = await tap(c, 'CAFEBABE');
    const { icc } = rsaChain(capkRsa(capkEntry(rsaCa)), first.card, first.staticData);
    const sdad = first.gpo.get('9F4B')!;
    expect(rsaFdda(icc, sdad, fddaTerminalData(first))).toBeDefined();
    const otherUn = { ...first, terminal: new Map(first.terminal).set('9F37', h('CAFEBABF')) };
    expect(rsaFdda(icc, sdad, fddaTerminalData(otherUn))).toBeUndefined();
    const otherAmount = { ...first, terminal: new Map(first.terminal).set('9F02', h('000000000300')) };
    expect(rsaFdda(icc, sdad, fddaTerminalData(otherAmount))).toBeUndefined();
    expect(rsaFdda(icc, sdad, first.terminal.get('9F37')!)).toBeUndefined(); // not a version 00 signature

    const second = await tap(c, 'CAFEBABE');
    expect(hexOf(first.gpo.get('9F36')!)).toBe('0001');
    expect(hexOf(second.gpo.get('9F36')!)).toBe('0002');
    expect(hexOf(rsaFdda(icc, second.gpo.get('9F4B')!, fddaTerminalData(second))!)).toBe('0002');
    expect(second.gpo.get('9F26')!.equals(first.gpo.get('9F26')!)).toBe(false);
    expect(c.transactionCounter).toBe(2);
  });

  it('signs over 9F37 alone for fDDA version 00 (no 9F69, 9F08 0020)', async () => {
    const t = await tap(card(rsaIssuer, { fddaVersion: '00', atc: 41 }));
    expect(t.card.get('9F69')).toBeUndefined();
    expect(hexOf(t.card.get('9F08')!)).toBe('0020');
    const { icc } = rsaChain(capkRsa(capkEntry(rsaCa)), t.card, t.staticData);
    expect(hexOf(rsaFdda(icc, t.gpo.get('9F4B')!, t.terminal.get('9F37')!)!)).toBe('002A');
  });

  it('a clone carries the genuine chain but its dynamic signature fails', async () => {
    const t = await tap(card(rsaIssuer, { clone: true }));
    const { icc } = rsaChain(capkRsa(capkEntry(rsaCa)), t.card, t.staticData);
    expect(rsaFdda(icc, t.gpo.get('9F4B')!, fddaTerminalData(t))).toBeUndefined();
  });

  it('a record changed after signing breaks the ICC certificate hash, not the issuer certificate', async () => {
    const t = await tap(card(rsaIssuer, { tamperRecord: true }));
    expect(hexOf(t.card.get('5F28')!)).toBe('0157');
    expect(() => rsaChain(capkRsa(capkEntry(rsaCa)), t.card, t.staticData)).toThrow('ICC certificate');
  });

  it('names another CA index when asked, and its issuer certificate expiry is the issuer\'s', async () => {
    const expired = makeCardIssuer(rsaCa, { certExpiry: '0124' });
    const t = await tap(card(expired, { caIndex: 'F9' }));
    expect(hexOf(t.card.get('8F')!)).toBe('F9');
    const { issuerBlock } = rsaChain(capkRsa(capkEntry(rsaCa)), t.card, t.staticData);
    expect(hexOf(issuerBlock.subarray(6, 8))).toBe('0124');
  });
});

describe('a personalised SM2 card', () => {
  it('verifies issuer -> ICC -> fDDA with the test\'s own SM2 check, the ATC counting', async () => {
    const c = card(sm2Issuer);
    const t = await tap(c, '0A0B0C0D');
    expect(hexOf(t.gpo.get('9F10')!)).toBe('07010103000000040A01');
    const iccKey = sm2Chain(capkSm2(capkEntry(sm2Ca)), t.card, t.staticData);
    const sdad = t.gpo.get('9F4B')!;
    expect(hexOf(sdad.subarray(0, 5))).toBe('1503020001');
    expect(hexOf(sm2Fdda(iccKey, sdad, fddaTerminalData(t))!)).toBe('0001');
    const otherUn = { ...t, terminal: new Map(t.terminal).set('9F37', h('0A0B0C0E')) };
    expect(sm2Fdda(iccKey, sdad, fddaTerminalData(otherUn))).toBeUndefined();
    const again = await tap(c, '0A0B0C0D');
    expect(hexOf(sm2Fdda(iccKey, again.gpo.get('9F4B')!, fddaTerminalData(again))!)).toBe('0002');
  });

  it('fDDA 00 signs 15 | 03 | 02 ATC || 9F37', async () => {
    const t = await tap(card(sm2Issuer, { fddaVersion: '00' }));
    const iccKey = sm2Chain(capkSm2(capkEntry(sm2Ca)), t.card, t.staticData);
    expect(sm2Fdda(iccKey, t.gpo.get('9F4B')!, t.terminal.get('9F37')!)).toBeDefined();
  });

  it('a clone fails fDDA; a tampered record fails the ICC certificate', async () => {
    const clone = await tap(card(sm2Issuer, { clone: true }));
    const iccKey = sm2Chain(capkSm2(capkEntry(sm2Ca)), clone.card, clone.staticData);
    expect(sm2Fdda(iccKey, clone.gpo.get('9F4B')!, fddaTerminalData(clone))).toBeUndefined();
    const tampered = await tap(card(sm2Issuer, { tamperRecord: true }));
    expect(() => sm2Chain(capkSm2(capkEntry(sm2Ca)), tampered.card, tampered.staticData)).toThrow('ICC certificate');
  });
});

describe('APDU behaviour', () => {
  it('answers as ISO 7816-4 and EMV Book 1 say for what it does not do', () => {
    const c = card(rsaIssuer);
    expect(send(c, '80A8000002830000').sw).toBe('6985'); // GPO before an application is selected
    expect(send(c, apdu('00A40400', h('A000000333010102'))).sw).toBe('6A82');
    expect(send(c, apdu('00A40400', h('F04349545947415445'))).sw).toBe('6A82'); // the CG card's AID
    ok(c, apdu('00A40400', h('A000000333010101')));
    expect(send(c, apdu('80A80000', h('83020000'))).sw).toBe('6700'); // PDOL data of the wrong length
    expect(send(c, '00B2011C00').sw).toBe('9000'); // SFI 3 record 1
    expect(send(c, '00B2051C00').sw).toBe('6A83'); // SFI 3 record 5: absent
    expect(send(c, '00B2011800').sw).toBe('6A86'); // P2 without the "record number in P1" bits
    expect(send(c, '00CA9F3600').sw).toBe('6D00');
    expect(send(c, '84B2010C00').sw).toBe('6E00');
    expect(send(c, '00A8000002830000').sw).toBe('6E00');
  });

  it('lists only the applications it has, or no PPSE at all', async () => {
    const visa = card(rsaIssuer, { aids: ['A0000000031010'] });
    expect((await tap(visa)).aids).toEqual(['A0000000031010']);
    expect(send(visa, apdu('00A40400', h('A000000333010101'))).sw).toBe('6A82');
    const two = await tap(card(rsaIssuer, { aids: ['A000000333010101', 'A000000333010106'] }));
    expect(two.aids).toEqual(['A000000333010101', 'A000000333010106']);
    const hidden = card(rsaIssuer, { noPpse: true });
    expect(send(hidden, '00A404000E325041592E5359532E444446303100').sw).toBe('6A82');
    expect((await tap(hidden, '01020304', 'A000000333010101')).gpo.get('9F4B')).toBeDefined();
  });

  it('takes the PDOL with DF60 first when so personalised', async () => {
    const t = await tap(card(rsaIssuer, { pdol: 'extended' }));
    expect(hexOf(t.fci.get('9F38')!)).toBe(EXTENDED_PDOL);
    expect(EXTENDED_PDOL.startsWith('DF6001')).toBe(true);
    expect(t.pdolData.length).toBe(35);
  });

  it('a chatty card answers 61xx to everything, GET RESPONSE included, for ever', () => {
    const c = card(rsaIssuer, { chatty: true });
    expect(send(c, '00A404000E325041592E5359532E444446303100').sw).toBe('6110');
    for (let i = 0; i < 50; i++) {
      const { data, sw } = send(c, '00C0000010');
      expect([data.length, sw]).toEqual([16, '6110']);
    }
  });

  it('answers through the simulated reader the gate uses', async () => {
    const channel = await simChannel(publishedTestCard());
    const t = await tapVia(async (command) => Buffer.from(await channel.transmit(h(command), 500)));
    const { icc } = rsaChain(capkRsa(UNIONPAY_TEST_CAPK), t.card, t.staticData);
    expect(rsaFdda(icc, t.gpo.get('9F4B')!, fddaTerminalData(t))).toBeDefined();
  });
});

describe('behind the real PC/SC stack (pcsclite -> private pcscd -> vpcd)', () => {
  let daemon: PcscdProcess | undefined;
  let reader: PcscCardReader | undefined;
  let slot: VpcdCard | undefined;
  afterAll(async () => {
    await slot?.remove();
    await reader?.stop();
    await daemon?.stop();
  });

  it('reads the published card and an SM2 card with every answer intact', async () => {
    daemon = await startPrivatePcscd();
    const events: CardReaderEvent[] = [];
    const until = async (what: string, probe: () => boolean): Promise<void> => {
      const deadline = Date.now() + 15_000;
      while (!probe()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${daemon!.log().slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    reader = new PcscCardReader({ socket: daemon.socketPath, reconnectMs: { first: 100, max: 400 } });
    await reader.start((event) => events.push(event));
    await until('the vpcd reader', () => events.some((e) => e.type === 'health' && e.healthy && e.detail.includes(daemon!.readerNames[0]!)));
    slot = new VpcdCard(daemon.ports[0]!);
    // Each card: on the reader, one session through pcscd, off again (and pcscd has seen it leave).
    const present = async (c: ApduResponder): Promise<Tap> => {
      const seen = events.length;
      await slot!.insert(c);
      await until('card-present', () => events.slice(seen).some((e) => e.type === 'card-present'));
      const event = events.slice(seen).find((e) => e.type === 'card-present')!;
      const channel = (event as { channel: CardChannel }).channel;
      const t = await tapVia(async (command) => Buffer.from(await channel.transmit(h(command), 2_000)));
      await slot!.remove();
      await until('card-removed', () => events.slice(seen).some((e) => e.type === 'card-removed'));
      return t;
    };
    const published = await present(publishedTestCard());
    const { icc } = rsaChain(capkRsa(UNIONPAY_TEST_CAPK), published.card, published.staticData);
    expect(rsaFdda(icc, published.gpo.get('9F4B')!, fddaTerminalData(published))).toBeDefined();
    const sm = await present(card(sm2Issuer));
    const iccKey = sm2Chain(capkSm2(capkEntry(sm2Ca)), sm.card, sm.staticData);
    expect(sm2Fdda(iccKey, sm.gpo.get('9F4B')!, fddaTerminalData(sm))).toBeDefined();
  });
});

describe('files: test CAs, capk.json, saved cards', () => {
  it('issuer init writes CAs and a capk.json that verifies cards made by issuer bankcard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bankcard-'));
    dirs.push(dir);
    initTestCas(dir);
    const capk = JSON.parse(readFileSync(join(dir, 'capk.json'), 'utf8')) as CapkEntry[];
    expect(capk.map((e) => [e.rid, e.index, e.algorithm])).toEqual([
      ['A000000333', 'F1', 'RSA'],
      ['A000000333', 'F2', 'SM2'],
      ['A000000333', '80', 'RSA'],
    ]);
    for (const entry of capk) {
      const key = entry.algorithm === 'RSA' ? `${entry.modulus}${entry.exponent}` : entry.publicKey;
      expect(entry.checksum).toBe(createHash('sha1').update(h(`${entry.rid}${entry.index}${key}`)).digest('hex').toUpperCase());
    }
    expect(capk[0]!.modulus!.length).toBe(1408 / 4);
    expect(capk[0]!.exponent).toBe('03');

    const rsaFile = join(dir, 'rsa-card.json');
    issuerBankCard({ dir, pan: '6228001234567890', psn: '03', algorithm: 'RSA', expiry: '301231', out: rsaFile });
    const rsa = await tap(loadBankCard(rsaFile));
    expect(hexOf(rsa.card.get('5F24')!)).toBe('301231');
    const { icc } = rsaChain(capkRsa(capk[0]!), rsa.card, rsa.staticData);
    expect(rsaFdda(icc, rsa.gpo.get('9F4B')!, fddaTerminalData(rsa))).toBeDefined();

    const sm2File = join(dir, 'sm2-card.json');
    issuerBankCard({ dir, pan: '6228001234567890', psn: '01', algorithm: 'SM2', out: sm2File });
    const sm = await tap(loadBankCard(sm2File));
    const iccKey = sm2Chain(capkSm2(capk[1]!), sm.card, sm.staticData);
    expect(sm2Fdda(iccKey, sm.gpo.get('9F4B')!, fddaTerminalData(sm))).toBeDefined();

    expect(() => issuerBankCard({ dir, pan: '62284812', psn: '01', algorithm: 'RSA' })).toThrow(/--pan/);
    expect(() => issuerBankCard({ dir: join(dir, 'none'), pan: '6228001234567890', psn: '01', algorithm: 'RSA' })).toThrow(/no test CA F1/);
  });

  it('a saved card loads with its keys and carries on from its saved ATC', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bankcard-'));
    dirs.push(dir);
    const image = personaliseBankCard(rsaIssuer, { pan: PAN, atc: 7 });
    saveBankCard(image, join(dir, 'card.json'));
    const loaded = loadBankCard(join(dir, 'card.json'));
    expect(hexOf((await tap(loaded)).gpo.get('9F36')!)).toBe('0008');
    expect(() => loadBankCard(join(dir, 'missing.json'))).toThrow(/missing\.json/);
  });
});
