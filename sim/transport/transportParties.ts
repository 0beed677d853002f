import { randomBytes } from 'node:crypto';
import { encodeCertificate, encodeCode, INTEROPERABLE, signAccount, type AccountSpec, type Version } from './codeEncoder.js';
import { newSm2KeyPair, type Sm2KeyPair } from './transportKeys.js';

/*
 * The parties of a transport QR code for tests and the simulator: a root CA,
 * issuers it certifies, and riders whose phones make codes. Test keys only.
 */

/** A trust list's transport root entry (DESIGN.md §5). */
export interface RootEntry {
  index: number;
  algorithm: 'SM2';
  publicKey: string;
}

export class TransportRoot {
  constructor(
    readonly index: number,
    readonly key: Sm2KeyPair = newSm2KeyPair(),
  ) {}

  trustEntry(): RootEntry {
    return { index: this.index, algorithm: 'SM2', publicKey: this.key.uncompressed.toString('hex') };
  }
}

export interface IssuerOptions {
  /** Valid through the end of this month; default December 2049. */
  expiry?: { year: number; month: number };
  serial?: string;
  key?: Sm2KeyPair;
  /** 发码机构号 and 发码平台编号 its riders' accounts carry (8 hex digits each). */
  organisation?: string;
  platform?: string;
}

export interface RiderOptions {
  /** 20 hex digits. */
  accountNumber: string;
  version?: Version;
  /** JT/T 978.3: 01 ordinary, 02 student, 03 senior. */
  accountType?: number;
  /** Single-trip limit in fen; default 20 yuan. */
  limitFen?: number;
  /** Epoch seconds. */
  authorisedUntil: number;
  /** Seconds a code stays valid after its generation; default 60. */
  validSec?: number;
  defined?: Uint8Array;
  key?: Sm2KeyPair;
}

export class TransportTestIssuer {
  readonly key: Sm2KeyPair;
  readonly expiry: { year: number; month: number };
  readonly serial: string;
  readonly organisation: string;
  readonly platform: string;
  private readonly certificates = new Map<Version, Buffer>();

  constructor(
    readonly root: TransportRoot,
    /** 8 hex digits, upper case: what the certificate and the trust list name. */
    readonly id: string,
    options: IssuerOptions = {},
  ) {
    this.key = options.key ?? newSm2KeyPair();
    this.expiry = options.expiry ?? { year: 2049, month: 12 };
    this.serial = options.serial ?? randomBytes(3).toString('hex').toUpperCase();
    this.organisation = options.organisation ?? '99990001';
    this.platform = options.platform ?? '00000001';
  }

  /** The issuer certificate under the root, with the version's user id (made once per version). */
  certificate(version: Version): Buffer {
    let certificate = this.certificates.get(version);
    if (!certificate) {
      certificate = encodeCertificate({ version, rootIndex: this.root.index, rootKey: this.root.key.privateKey, issuerId: this.id, expiry: this.expiry, serial: this.serial, issuerKey: this.key });
      this.certificates.set(version, certificate);
    }
    return certificate;
  }

  /** Authorise a rider's phone key: the issuer signs the account once, the phone signs each code. */
  enrol(options: RiderOptions): TransportRider {
    const version = options.version ?? INTEROPERABLE;
    const account: AccountSpec = {
      paymentAccount: options.accountNumber.padStart(32, '0'),
      accountNumber: options.accountNumber,
      organisation: this.organisation,
      platform: this.platform,
      accountType: options.accountType ?? 0x01,
      limitFen: options.limitFen ?? 2_000,
      userKey: options.key ?? newSm2KeyPair(),
      authorisedUntil: options.authorisedUntil,
      validSec: options.validSec ?? 60,
      defined: options.defined ?? new Uint8Array(0),
    };
    return new TransportRider(version, account, signAccount(version, this.certificate(version), account, this.key.privateKey));
  }
}

export class TransportRider {
  constructor(
    readonly version: Version,
    readonly account: AccountSpec,
    /** Certificate, account fields and the issuer's signature field, as the issuer sent them to the phone. */
    readonly signedAccount: Buffer,
  ) {}

  /** A code generated at `generatedAt` (epoch seconds), signed by the phone's key (or another key: a forgery). */
  code(generatedAt: number, signingKey: bigint = this.account.userKey.privateKey): Buffer {
    return encodeCode(this.version, this.signedAccount, this.account.accountNumber, generatedAt, signingKey);
  }
}
