import { describe, expect, it } from 'vitest';
import { Sm2PublicKey } from '../src/core/crypto/sm2.js';
import { SM2_P256 } from '../src/core/crypto/sm2Curve.js';
import type { CardDate } from '../src/core/credentials/emv/cardDate.js';
import {
  verifySm2DynamicSignature,
  verifySm2IccCertificate,
  verifySm2IssuerCertificate,
  verifySm2StaticData,
  type Sm2IccCertificate,
  type Sm2IssuerCertificate,
} from '../src/core/credentials/emv/sm2Certificates.js';
import { sm2KeyPair, sm2Sign } from '../bench/sm2Verify.js';
import { refusalFrom } from './fixtures.js';

/*
 * Published personalisation scripts of a PBOC SM2 test card (CARDS.md §1):
 * DUAL is the dual RSA/SM card (find_string id 54769375728: SM chain in DGI
 * 05xx, SM GPO response for contactless in DGI 9208), SM_ONLY the SM-only card
 * (id 54928149728). Values are copied from the scripts; records are rebuilt
 * with the scripts' own TLV() rule. The SM2 CA key (index 57) is not public.
 */
const PUBLISHED = {
  issuerCertificate90:
    '12622800011220000001040011409F483BF2CC71C5093728318061E3F768EA7C170F82DD8C4B979FBD8C76A129F93FB5746E96F5E49B987FFB521E473B25E1B017C30BE3FC638BA14D5FA4AADC1673DF81BF5CC82AABB7CF3C9165EDEEA2EC0CCC56AB19F1661E012CD33D4BFBEC55A88990EB25B4A4058C8E4B11C1F9EA2055E403CA76AC8A991DE80A35BED348',
  signedStatic93:
    '13DAC197C8713D8B0670C48847895875D6B153C3539172A493B51C6966F4048560FAD07290AF31A0B14D9759197E3BAFA805A5E3FFCCCA036B783B32076CD713C30C5F',
  pan: '6228000100001117',
  /** DGI 0303, the 9F69 the card gives for fDDA. */
  cardAuthData9F69: '0100000000300000',
  dual: {
    iccCertificate9F46:
      '146228000100001117FFFF122000000104000440C3AC12B81B9D175936B5BF72BB8FE3A2266BC013B2E94F5837F16AA1C01AA7323B75626AB64D02AED20CC6F440841F10EE6873BCBEA3F41D6869D0FEADD711547817D243286F51A55694D3C728191F067A6C194B4B20C558A97565C5B9BFDB46D2E53C0F5DDC7C808BD0DB8C770DCA9B6F626BF5ECE8EA98EA7F758783CAF310',
    /** DGI 8501 (private key) and 8502 (public key X||Y), without their 80 00.. padding. */
    iccPrivate8501: '4EFF3E9B796688F38E006DEB21E101C01028903A06023AC5AAB8635F8E307A53',
    iccPublic8502: 'C3AC12B81B9D175936B5BF72BB8FE3A2266BC013B2E94F5837F16AA1C01AA7323B75626AB64D02AED20CC6F440841F10EE6873BCBEA3F41D6869D0FEADD71154',
    /** DGI 9208: the contactless GPO response with the SM chain (SFI 5) in its AFL. */
    contactlessAfl94: '280305001801010118030300',
  },
  smOnly: {
    iccCertificate9F46:
      '146228000100001117FFFF122000000104000440173A31DD681C6F8FE3BA6C354AD3924A4ADFD15EB0581BC1B37A1EB1C88DA29B47155F62FCF4CCCD201B134351A049D77E81F6A6C66E9CB32664F41348DA11F6A1D4F35659452064382C2CAD8D74041C9CAC2A10C663F4030C2759E36B770B2068C6FD95B195BD6FD3C4F4A42009AB9DCE81BFB9C2D04DD39E059E562E9D172E',
    iccPrivate8501: 'AAF8CE02045DD01619D689EE731C551159BE7EB2D51A372FF56B556E5CB2FDE3',
    iccPublic8502: '173A31DD681C6F8FE3BA6C354AD3924A4ADFD15EB0581BC1B37A1EB1C88DA29B47155F62FCF4CCCD201B134351A049D77E81F6A6C66E9CB32664F41348DA11F6',
    /** DGI 9208 (contactless) and 9204 (contact, second GPO response). */
    contactlessAfl94: '1003050018030300',
    contactAfl94: '08010100100205001802020118040400',
  },
};

const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** The scripts' TLV(): one length byte, or 81 and one byte above 127. */
function tlv(tag: string, data: string): string {
  const length = data.length / 2;
  const l = length.toString(16).padStart(2, '0').toUpperCase();
  return tag + (length > 0x7f ? '81' + l : l) + data;
}

/** The records both scripts store in SFI 3 (DGI 03rr), as record templates 70. */
const RECORDS: Record<string, string> = {
  '0301': tlv('70', tlv('5A', '6228000100001117') + tlv('5F24', '301231') + tlv('5F25', '950701') + tlv('9F08', '0030')),
  '0302': tlv(
    '70',
    tlv('5A', '6228000100001117') +
      tlv('5F24', '301231') +
      tlv('9F07', 'FFC0') +
      tlv('8E', '00000000000000000100') +
      tlv('9F0D', '7C70B80800') +
      tlv('9F0E', '7C70B80800') +
      tlv('9F0F', '0000000000') +
      tlv('5F28', '0156'),
  ),
  '0303': tlv('70', tlv('9F74', '454343313131') + tlv('9F69', '0100000000300000')),
};

/**
 * Static data for offline data authentication (EMV Book 3 §10.3): per AFL
 * entry (SFI<<3, first, last, records for ODA), the first N records; for SFI
 * 1..10 the record template's value, without tag 70 and its length. DGI =
 * SFI then record number.
 */
function odaStaticData(afl: string): Uint8Array {
  const parts: Uint8Array[] = [];
  const bytes = hex(afl);
  for (let i = 0; i < bytes.length; i += 4) {
    const sfi = bytes[i]! >> 3;
    const first = bytes[i + 1]!;
    for (let record = first; record < first + bytes[i + 3]!; record++) {
      const dgi = sfi.toString(16).padStart(2, '0') + record.toString(16).padStart(2, '0');
      const template = hex(RECORDS[dgi]!);
      if (template[0] !== 0x70) throw new Error(`DGI ${dgi} is not a record template 70`);
      const lengthBytes = template[1] === 0x81 ? 2 : 1;
      parts.push(template.subarray(1 + lengthBytes));
    }
  }
  return concat(...parts);
}

const TODAY: CardDate = { year: 2020, month: 6, day: 15 };
const PAN = PUBLISHED.pan;
const CLEAR_PAN = /6228000100001117/;

/** A test CA: the real one (index 57) is not public, so 90 is re-signed over its published body. */
const testCa = sm2KeyPair();
const caKey = Sm2PublicKey.parse(testCa.publicKey);

function resign(item: Uint8Array, privateKey: bigint, covered = new Uint8Array(0)): Uint8Array {
  const body = item.subarray(0, item.length - 64);
  return concat(body, sm2Sign(privateKey, concat(body, covered)));
}

const published90 = hex(PUBLISHED.issuerCertificate90);
const resigned90 = resign(published90, testCa.privateKey);

function withByte(bytes: Uint8Array, index: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = value;
  return copy;
}


function expectRefused(action: () => unknown, reason: string, detail: RegExp): void {
  const error = refusalFrom(action);
  expect(error.reason).toBe(reason);
  expect(error.detail).toMatch(detail);
  expect(error.detail).not.toMatch(CLEAR_PAN);
}

describe('published data, before any code of ours', () => {
  it.each([
    ['dual', PUBLISHED.dual],
    ['SM-only', PUBLISHED.smOnly],
  ])('the %s card: 8501·G is the public key of 8502, and the key 9F46 certifies', (_name, card) => {
    expect(toHex(SM2_P256.Point.BASE.multiply(BigInt('0x' + card.iccPrivate8501)).toBytes(false))).toBe('04' + card.iccPublic8502);
    expect(card.iccCertificate9F46).toContain(card.iccPublic8502);
  });

  it('the dual card marks SFI 3 record 1 (DGI 0301) for ODA in its contactless SM AFL', () => {
    expect(toHex(odaStaticData(PUBLISHED.dual.contactlessAfl94))).toBe('5A0862280001000011175F24033012315F25039507019F08020030');
  });
});

describe('issuer certificate 90', () => {
  it('gives the published fields and key once signed by a CA we hold', () => {
    const issuer = verifySm2IssuerCertificate(caKey, resigned90, PAN, TODAY);
    expect(issuer.issuerId).toBe('62280001');
    expect(issuer.expiry).toEqual({ year: 2020, month: 12 });
    expect(issuer.serial).toBe('000001');
    expect(toHex(issuer.key.uncompressed)).toBe('04' + PUBLISHED.issuerCertificate90.slice(28, 156));
  });

  it('refuses the published signature under our CA (the real CA key is not public)', () => {
    expectRefused(() => verifySm2IssuerCertificate(caKey, published90, PAN, TODAY), 'bad-signature', /issuer certificate \(90\): SM2 signature does not verify/);
  });

  it('is valid through the end of its month, expired after', () => {
    expect(verifySm2IssuerCertificate(caKey, resigned90, PAN, { year: 2020, month: 12, day: 31 }).issuerId).toBe('62280001');
    expectRefused(() => verifySm2IssuerCertificate(caKey, resigned90, PAN, { year: 2021, month: 1, day: 1 }), 'expired', /issuer certificate \(90\) expired at the end of 12\/2020/);
  });

  it('refuses a PAN its issuer id does not lead, masking the PAN', () => {
    const error = refusalFrom(() => verifySm2IssuerCertificate(caKey, resigned90, '6228000200001117', TODAY));
    expect(error.reason).toBe('bad-signature');
    expect(error.detail).toBe('issuer certificate (90): issuer 62280001 does not lead PAN 622800******1117');
  });

  it('refuses a tampered byte in each field', () => {
    // issuer id, expiry, serial, encryption algorithm, parameter indicator, key, signature
    for (const index of [2, 5, 8, 11, 12, 40, 100]) {
      expectRefused(() => verifySm2IssuerCertificate(caKey, withByte(resigned90, index, resigned90[index]! ^ 0x01), PAN, TODAY), 'bad-signature', /issuer certificate \(90\)/);
    }
  });

  it('refuses a wrong format, algorithm, key length, total length or expiry, naming it', () => {
    const cases: [Uint8Array, RegExp][] = [
      [withByte(resigned90, 0, 0x13), /format 13, expected 12/],
      [withByte(resigned90, 10, 0x01), /key signature algorithm 01, expected 04/],
      [withByte(resigned90, 13, 0x41), /key length 65, expected 64/],
      [withByte(resigned90, 5, 0x13), /expiry 1320 is not MMYY/],
      [resigned90.subarray(0, 141), /141 bytes, expected 142/],
      [concat(resigned90, Uint8Array.of(0)), /143 bytes, expected 142/],
    ];
    for (const [certificate, detail] of cases) expectRefused(() => verifySm2IssuerCertificate(caKey, certificate, PAN, TODAY), 'bad-signature', detail);
  });

  it('refuses a signed issuer id that is not BCD, and a certified key off the curve', () => {
    const badId = resign(withByte(published90, 1, 0x6a), testCa.privateKey);
    expectRefused(() => verifySm2IssuerCertificate(caKey, badId, PAN, TODAY), 'bad-signature', /issuer id 6A280001 is not 3 to 8 digits/);
    const offCurve = resign(withByte(published90, 77, published90[77]! ^ 0x01), testCa.privateKey);
    expectRefused(() => verifySm2IssuerCertificate(caKey, offCurve, PAN, TODAY), 'bad-signature', /not a point of the SM2 curve/);
  });

  it('refuses a PAN that is not one, and a date that is not one', () => {
    expectRefused(() => verifySm2IssuerCertificate(caKey, resigned90, '62280001x', TODAY), 'malformed', /PAN/);
    expectRefused(() => verifySm2IssuerCertificate(caKey, resigned90, PAN, { year: 2020, month: 13, day: 1 }), 'clock-untrusted', /today/);
    expectRefused(() => verifySm2IssuerCertificate(caKey, 'x' as unknown as Uint8Array, PAN, TODAY), 'malformed', /not bytes/);
  });
});

describe('ICC certificate 9F46 and static data 93 with the issuer key from 90 (published signatures)', () => {
  const issuer: Sm2IssuerCertificate = verifySm2IssuerCertificate(caKey, resigned90, PAN, TODAY);
  const staticData = odaStaticData(PUBLISHED.dual.contactlessAfl94);
  const dual9F46 = hex(PUBLISHED.dual.iccCertificate9F46);
  const signed93 = hex(PUBLISHED.signedStatic93);

  it('verifies the dual card 9F46 over the ODA record of its contactless AFL', () => {
    const icc = verifySm2IccCertificate(issuer, dual9F46, staticData, PAN, TODAY);
    expect(icc.pan).toBe(PAN);
    expect(icc.expiry).toEqual({ year: 2020, month: 12 });
    expect(icc.serial).toBe('000001');
    expect(toHex(icc.key.uncompressed)).toBe('04' + PUBLISHED.dual.iccPublic8502);
  });

  it('verifies 93 over the same static data, with DAC DAC1', () => {
    expect(verifySm2StaticData(issuer, signed93, staticData)).toEqual({ dac: 'DAC1' });
  });

  it('verifies the SM-only card 9F46 and 93 over DGI 0301 too, which its own AFLs do not mark for ODA', () => {
    const record0301 = odaStaticData(PUBLISHED.dual.contactlessAfl94);
    const smOnly9F46 = hex(PUBLISHED.smOnly.iccCertificate9F46);
    expect(toHex(verifySm2IccCertificate(issuer, smOnly9F46, record0301, PAN, TODAY).key.uncompressed)).toBe('04' + PUBLISHED.smOnly.iccPublic8502);
    // Its contactless AFL marks no record (static data empty); its contact AFL marks SFI 3 record 2.
    expect(odaStaticData(PUBLISHED.smOnly.contactlessAfl94)).toHaveLength(0);
    for (const afl of [PUBLISHED.smOnly.contactlessAfl94, PUBLISHED.smOnly.contactAfl94]) {
      expectRefused(() => verifySm2IccCertificate(issuer, smOnly9F46, odaStaticData(afl), PAN, TODAY), 'bad-signature', /ICC certificate \(9F46\): SM2 signature does not verify/);
      expectRefused(() => verifySm2StaticData(issuer, signed93, odaStaticData(afl)), 'bad-signature', /signed static data \(93\): SM2 signature does not verify/);
    }
  });

  it('refuses static data with the AIP appended or a byte changed', () => {
    for (const data of [concat(staticData, hex('7000')), withByte(staticData, 2, 0x63)]) {
      expectRefused(() => verifySm2IccCertificate(issuer, dual9F46, data, PAN, TODAY), 'bad-signature', /9F46/);
      expectRefused(() => verifySm2StaticData(issuer, signed93, data), 'bad-signature', /93/);
    }
  });

  it('refuses a tampered byte in each field of 9F46', () => {
    // PAN, its F padding, expiry, serial, parameter indicator, key, signature
    for (const index of [1, 10, 12, 14, 18, 50, 120]) {
      expectRefused(() => verifySm2IccCertificate(issuer, withByte(dual9F46, index, dual9F46[index]! ^ 0x01), staticData, PAN, TODAY), 'bad-signature', /ICC certificate \(9F46\)/);
    }
  });

  it('refuses a 5A other than the PAN it certifies, masked', () => {
    const error = refusalFrom(() => verifySm2IccCertificate(issuer, dual9F46, staticData, '6228000100001118', TODAY));
    expect(error.reason).toBe('bad-signature');
    expect(error.detail).toBe("ICC certificate (9F46): certifies PAN 622800******1117, the card's 5A is 622800******1118");
  });

  it('is expired after 12/2020', () => {
    expectRefused(() => verifySm2IccCertificate(issuer, dual9F46, staticData, PAN, { year: 2021, month: 2, day: 1 }), 'expired', /ICC certificate \(9F46\) expired at the end of 12\/2020/);
  });

  it('refuses wrong layouts of 9F46 and 93', () => {
    expectRefused(() => verifySm2IccCertificate(issuer, dual9F46.subarray(0, 147), staticData, PAN, TODAY), 'bad-signature', /9F46\): 147 bytes, expected 148/);
    expectRefused(() => verifySm2IccCertificate(issuer, withByte(dual9F46, 0, 0x12), staticData, PAN, TODAY), 'bad-signature', /format 12, expected 14/);
    expectRefused(() => verifySm2IccCertificate(issuer, withByte(dual9F46, 19, 0x20), staticData, PAN, TODAY), 'bad-signature', /key length 32, expected 64/);
    expectRefused(() => verifySm2StaticData(issuer, signed93.subarray(0, 66), staticData), 'bad-signature', /93\): 66 bytes, expected 67/);
    expectRefused(() => verifySm2StaticData(issuer, withByte(signed93, 0, 0x03), staticData), 'bad-signature', /format 03, expected 13/);
    expectRefused(() => verifySm2StaticData(issuer, withByte(signed93, 2, 0xc0), staticData), 'bad-signature', /SM2 signature does not verify/);
  });

  it('refuses 93 and 9F46 under another issuer key', () => {
    const other = { ...issuer, key: Sm2PublicKey.parse(sm2KeyPair().publicKey) };
    expectRefused(() => verifySm2StaticData(other, signed93, staticData), 'bad-signature', /does not verify/);
    expectRefused(() => verifySm2IccCertificate(other, dual9F46, staticData, PAN, TODAY), 'bad-signature', /does not verify/);
  });
});

describe('SM fDDA signed dynamic data 9F4B (made here with the card key of DGI 8501)', () => {
  const issuer = verifySm2IssuerCertificate(caKey, resigned90, PAN, TODAY);
  const icc: Sm2IccCertificate = verifySm2IccCertificate(issuer, hex(PUBLISHED.dual.iccCertificate9F46), odaStaticData(PUBLISHED.dual.contactlessAfl94), PAN, TODAY);
  const cardKey = BigInt('0x' + PUBLISHED.dual.iccPrivate8501);
  // 9F37 unpredictable number, 9F02 amount 2.00, 5F2A CNY, and the card's own 9F69.
  const terminalData = hex('1A2B3C4D' + '000000000200' + '0156' + PUBLISHED.cardAuthData9F69);
  const header = hex('1503020123');
  const sdad = concat(header, sm2Sign(cardKey, concat(header, terminalData)));

  it('returns the ATC the card signed', () => {
    expect(verifySm2DynamicSignature(icc, sdad, terminalData)).toEqual({ atc: 0x0123 });
  });

  it('fails card authentication for other terminal data, a changed ATC, or another key (a clone)', () => {
    const otherUn = withByte(terminalData, 0, 0x1b);
    expectRefused(() => verifySm2DynamicSignature(icc, sdad, otherUn), 'card-auth-failed', /signed dynamic data \(9F4B\): SM2 signature does not verify/);
    expectRefused(() => verifySm2DynamicSignature(icc, withByte(sdad, 4, 0x24), terminalData), 'card-auth-failed', /9F4B/);
    expectRefused(() => verifySm2DynamicSignature(icc, withByte(sdad, 40, sdad[40]! ^ 0x80), terminalData), 'card-auth-failed', /9F4B/);
    const clone = concat(header, sm2Sign(sm2KeyPair().privateKey, concat(header, terminalData)));
    expectRefused(() => verifySm2DynamicSignature(icc, clone, terminalData), 'card-auth-failed', /9F4B/);
  });

  it('refuses a wrong layout as bad-signature', () => {
    expectRefused(() => verifySm2DynamicSignature(icc, withByte(sdad, 0, 0x05), terminalData), 'bad-signature', /format 05, expected 15/);
    expectRefused(() => verifySm2DynamicSignature(icc, withByte(sdad, 1, 0x04), terminalData), 'bad-signature', /dynamic data 0402, expected 03 02/);
    expectRefused(() => verifySm2DynamicSignature(icc, withByte(sdad, 2, 0x03), terminalData), 'bad-signature', /dynamic data 0303, expected 03 02/);
    expectRefused(() => verifySm2DynamicSignature(icc, sdad.subarray(0, 68), terminalData), 'bad-signature', /68 bytes, expected 69/);
    expectRefused(() => verifySm2DynamicSignature(icc, sdad, null as unknown as Uint8Array), 'malformed', /terminal data: not bytes/);
  });
});
