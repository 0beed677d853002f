import { randomBytes, type KeyObject } from 'node:crypto';
import type { BankApplication, BankCardImage } from './bankCardImage.js';
import type { CardIssuer } from './cardIssuer.js';
import { emvKeyToJson, type EmvKey } from './emvKey.js';
import { rsaIccCertificate, type IccCertificateFields } from './rsaCertificates.js';
import { makeRsaKey, rsaExponent, rsaModulus } from './rsaKeys.js';
import { sm2IccCertificate } from './sm2Certificates.js';
import { sm2PublicKey, sm2RandomPrivateKey } from './sm2Signer.js';
import { PUBLISHED_CONTACTLESS_FCI } from './publishedTestCardData.js';
import { hex, tlv } from './tlvEncoder.js';

/*
 * Personalisation: a whole qPBOC card under a CardIssuer, laid out like the
 * published UnionPay test card. SFI 1 track 2; SFI 2 the issuer and ICC
 * certificates; SFI 3 record 1 the one record signed for offline data
 * authentication. The AFL reads all three and counts that one; 9F4A lists
 * the AIP, so static data = the value of SFI 3 record 1's `70` || AIP
 * (EMV Book 3 §10.3).
 */

/** The published card's contactless PDOL with the extended-application indicator DF60 first: a gate must fill a PDOL by tag, not by position. */
export const EXTENDED_PDOL = `DF6001${PUBLISHED_CONTACTLESS_FCI.pdol}`;
export const UNIONPAY_DEBIT_AID = 'A000000333010101';

const AIP = '7000'; // SDA, DDA (so fDDA), cardholder verification
const AFL = '08010100' + '10010200' + '18010101';
/** Issuer application data as the published card's contactless GPO data carries it (DGI 9207 RSA, 9208 SM). */
const IAD = { RSA: '07010103000000010A01', SM2: '07010103000000040A01' };

export interface BankCardOptions {
  /** Application PAN `5A`: digits, starting with the issuer's BIN. */
  pan: string;
  /** `5F34`, default 01. */
  psn?: string;
  /** Application expiry `5F24` YYMMDD, default 491231. */
  expiry?: string;
  /** Application effective date `5F25` YYMMDD, default 240101. */
  effective?: string;
  /** ICC certificate expiry MMYY, default 1249 (the issuer certificate's is the issuer's). */
  iccCertExpiry?: string;
  /** `8F` as the card names its CA: another index than the issuer's CA makes a card whose CA the gate lacks. */
  caIndex?: string;
  /** Applications in the PPSE, in priority order; default the UnionPay debit AID. */
  aids?: string[];
  /** No PPSE: SELECT 2PAY.SYS.DDF01 answers 6A82. */
  noPpse?: boolean;
  /** The published card's PDOL (default), or 'extended': DF60 01 before it. */
  pdol?: 'published' | 'extended';
  /** fDDA version, default 01 (9F69 with version 01 and 9F08 0030); 00 has no 9F69 and 9F08 0020. */
  fddaVersion?: '00' | '01';
  /** ATC before the first tap, default 0. */
  atc?: number;
  /** A skimmed copy: the same records and certificates, another ICC private key, so every fDDA signature fails. */
  clone?: boolean;
  /** One byte of the ODA record changed after signing (the last byte of its country code), so the ICC certificate's hash fails. */
  tamperRecord?: boolean;
  /** Answers everything with 61xx chains for ever: only the gate's deadline ends the tap. */
  chatty?: boolean;
}

export function personaliseBankCard(issuer: CardIssuer, options: BankCardOptions): BankCardImage {
  const { pan } = options;
  if (!/^\d{12,19}$/.test(pan) || !pan.startsWith(issuer.bin)) throw new Error(`PAN ${JSON.stringify(pan)}: 12 to 19 digits starting with the issuer's BIN ${issuer.bin}`);
  const algorithm = issuer.key.algorithm;
  const psn = options.psn ?? '01';
  const expiry = options.expiry ?? '491231';
  const fddaVersion = options.fddaVersion ?? '01';
  const ctq = '3000';
  // 9F69 as the published card lays it out: fDDA version 01 | card unpredictable number (4) | CTQ | 00.
  const cardAuthData = fddaVersion === '01' ? `01${randomBytes(4).toString('hex')}${ctq}00` : undefined;
  // PAN, separator D, expiry YYMM, service code 201 (international, IC), discretionary data, F-padded to whole bytes.
  const track2 = `${pan}D${expiry.slice(0, 4)}2010000000000`;
  const track2Hex = track2.length % 2 ? `${track2}F` : track2;

  const oda = Buffer.concat([
    tlv('5A', hex(pan.length % 2 ? `${pan}F` : pan)),
    tlv('5F24', hex(expiry)),
    tlv('5F25', hex(options.effective ?? '240101')),
    tlv('5F34', hex(psn)),
    tlv('9F07', hex('FFC0')),
    tlv('9F08', hex(fddaVersion === '01' ? '0030' : '0020')),
    tlv('9F4A', hex('82')),
    ...(cardAuthData ? [tlv('9F69', hex(cardAuthData))] : []),
    tlv('5F28', hex('0156')),
  ]);
  const fields = { pan, expiry: options.iccCertExpiry ?? '1249', serial: randomBytes(3).toString('hex'), staticData: Buffer.concat([oda, hex(AIP)]) };
  const chain = issuer.key.algorithm === 'SM2' ? sm2Chain(issuer, issuer.key.key, fields) : rsaChain(issuer, issuer.key.key, fields);
  const caIndex = tlv('8F', hex(options.caIndex ?? issuer.ca.index));

  const odaTemplate = tlv('70', oda);
  if (options.tamperRecord) odaTemplate.writeUInt8(odaTemplate.at(-1)! ^ 0x01, odaTemplate.length - 1);
  const applications: BankApplication[] = (options.aids ?? [UNIONPAY_DEBIT_AID]).map((aid, i) => ({
    aid: aid.toUpperCase(),
    label: aid.toUpperCase().startsWith('A000000333') ? 'UnionPay' : 'Payment',
    priority: i + 1,
    pdol: options.pdol === 'extended' ? EXTENDED_PDOL : PUBLISHED_CONTACTLESS_FCI.pdol,
  }));
  return {
    atr: '3B80800101', // an ISO 14443-4 card without historical bytes, as PC/SC part 3 builds its ATR
    ppse: !options.noPpse,
    applications,
    gpo: { aip: AIP, afl: AFL, iad: IAD[algorithm] },
    records: [
      { sfi: 1, record: 1, template: hexOf(tlv('70', tlv('57', hex(track2Hex)))) },
      { sfi: 2, record: 1, template: hexOf(tlv('70', caIndex, chain.issuerRecord)) },
      { sfi: 2, record: 2, template: hexOf(tlv('70', chain.iccRecord)) },
      { sfi: 3, record: 1, template: hexOf(odaTemplate) },
    ],
    track2: track2Hex,
    psn,
    ctq,
    offlineSpending: '000000010000',
    atc: (options.atc ?? 0).toString(16).padStart(4, '0'),
    ...(cardAuthData ? { cardAuthData } : {}),
    // A clone signs with a key of its own: the certificate names the genuine one.
    iccKey: emvKeyToJson(options.clone ? newIccKey(algorithm) : chain.iccKey),
    acKey: randomBytes(16).toString('hex'),
    ...(options.chatty ? { chatty: true } : {}),
  };
}

interface ChainRecords {
  iccKey: EmvKey;
  /** SFI 2 record 1 after `8F`: the issuer certificate (and its remainder and exponent). */
  issuerRecord: Buffer;
  /** SFI 2 record 2: the ICC certificate (and its exponent and remainder). */
  iccRecord: Buffer;
}

function sm2Chain(issuer: CardIssuer, issuerKey: bigint, fields: IccCertificateFields): ChainRecords {
  const iccKey = sm2RandomPrivateKey();
  return { iccKey: { algorithm: 'SM2', key: iccKey }, issuerRecord: tlv('90', issuer.certificate), iccRecord: tlv('9F46', sm2IccCertificate(issuerKey, sm2PublicKey(iccKey), fields)) };
}

function rsaChain(issuer: CardIssuer, issuerKey: KeyObject, fields: IccCertificateFields): ChainRecords {
  const iccKey = makeIccRsaKey();
  const exponent = rsaExponent(iccKey);
  const { certificate, remainder } = rsaIccCertificate(issuerKey, rsaModulus(iccKey), exponent, fields);
  return {
    iccKey: { algorithm: 'RSA', key: iccKey },
    issuerRecord: Buffer.concat([tlv('90', issuer.certificate), ...optional('92', issuer.remainder), tlv('9F32', issuer.exponent)]),
    iccRecord: Buffer.concat([tlv('9F46', certificate), tlv('9F47', exponent), ...optional('9F48', remainder)]),
  };
}

/** A clone's key: another of the same kind. */
function newIccKey(algorithm: 'RSA' | 'SM2'): EmvKey {
  return algorithm === 'RSA' ? { algorithm, key: makeIccRsaKey() } : { algorithm, key: sm2RandomPrivateKey() };
}

/** 1024 bits, e = 65537: it fits any issuer key of 1024 bits or more. */
function makeIccRsaKey(): KeyObject {
  return makeRsaKey(1024, 65537);
}

function optional(tag: string, value: Buffer): Buffer[] {
  return value.length ? [tlv(tag, value)] : [];
}

function hexOf(bytes: Buffer): string {
  return bytes.toString('hex').toUpperCase();
}
