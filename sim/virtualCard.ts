import { CG_AID } from '../src/core/credentials/apdu.js';
import type { CoseAlg } from '../src/core/credentials/cose.js';
import { makeKeyPair, signBytes, type ClaimSet, type KeyPair, type TestIssuer } from './issuer.js';

const SW_OK = [0x90, 0x00];
const SW_WRONG_P1P2 = [0x6b, 0x00];
const SW_FILE_NOT_FOUND = [0x6a, 0x82];
const SW_INS_NOT_SUPPORTED = [0x6d, 0x00];
const SW_CONDITIONS = [0x69, 0x85];
const SW_WRONG_LENGTH = [0x67, 0x00];

/**
 * A CG card (DESIGN.md §3) that answers APDUs: its issuer's certificate and
 * its own private key. `clone()` copies the certificate onto a card with a
 * different key, which is all a skimmer can do.
 */
export class VirtualCard {
  readonly atr = Uint8Array.from([0x3b, 0x8a, 0x80, 0x01, 0x43, 0x49, 0x54, 0x59, 0x47, 0x41, 0x54, 0x45, 0x00, 0x00]);
  private selected = false;

  constructor(
    readonly number: string,
    readonly certificate: Uint8Array,
    private readonly key: KeyPair,
  ) {}

  static issue(issuer: TestIssuer, number: string, claims: Omit<Partial<ClaimSet>, 'sub'> & { iat: number }, alg: CoseAlg = 'ES256'): VirtualCard {
    const key = makeKeyPair(alg);
    return new VirtualCard(number, issuer.boundCredential(key, { sub: number, ...claims }), key);
  }

  clone(): VirtualCard {
    return new VirtualCard(this.number, this.certificate, makeKeyPair(this.key.alg));
  }

  /** Power-up or reset: the application must be selected again. */
  reset(): void {
    this.selected = false;
  }

  respond(apdu: Uint8Array): Uint8Array {
    if (apdu.length < 4) return Uint8Array.from(SW_WRONG_LENGTH);
    const [cla, ins, p1, p2] = apdu as unknown as [number, number, number, number];
    if (cla !== 0x00) return Uint8Array.from([0x6e, 0x00]);
    switch (ins) {
      case 0xa4:
        return this.select(apdu);
      case 0xb0:
        return this.readBinary(((p1 & 0x7f) << 8) | p2, apdu.length > 4 ? apdu[4]! : 0);
      case 0x88:
        return this.authenticate(apdu);
      default:
        return Uint8Array.from(SW_INS_NOT_SUPPORTED);
    }
  }

  private select(apdu: Uint8Array): Uint8Array {
    const lc = apdu[4] ?? 0;
    const aid = apdu.subarray(5, 5 + lc);
    this.selected = aid.length === CG_AID.length && aid.every((b, i) => b === CG_AID[i]);
    return Uint8Array.from(this.selected ? SW_OK : SW_FILE_NOT_FOUND);
  }

  private readBinary(offset: number, le: number): Uint8Array {
    if (!this.selected) return Uint8Array.from(SW_CONDITIONS);
    if (offset >= this.certificate.length) return Uint8Array.from(SW_WRONG_P1P2);
    const data = this.certificate.subarray(offset, offset + (le === 0 ? 256 : le));
    return Uint8Array.from([...data, ...SW_OK]);
  }

  private authenticate(apdu: Uint8Array): Uint8Array {
    if (!this.selected) return Uint8Array.from(SW_CONDITIONS);
    const lc = apdu[4] ?? 0;
    if (lc === 0 || apdu.length < 5 + lc) return Uint8Array.from(SW_WRONG_LENGTH);
    const signature = signBytes(this.key, apdu.subarray(5, 5 + lc));
    return Uint8Array.from([...signature, ...SW_OK]);
  }
}

/** A card that answers each APDU with the next of a fixed list of responses: a damaged chip, a hostile device. */
export class ScriptedCard {
  readonly atr = Uint8Array.from([0x3b, 0x00]);
  private next = 0;

  constructor(private readonly responses: readonly Uint8Array[]) {}

  respond(): Uint8Array {
    return this.responses[Math.min(this.next++, this.responses.length - 1)] ?? new Uint8Array(0);
  }

  reset(): void {
    this.next = 0;
  }
}

/** Anything that answers APDUs like a card: a CG card, a bank card, noise. */
export interface ApduResponder {
  readonly atr: Uint8Array;
  respond(apdu: Uint8Array): Uint8Array;
  reset(): void;
}
