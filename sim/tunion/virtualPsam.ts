import { mac2Data, mac1Data, purchaseSessionKey, purseAlgorithm, purseMac, sameBytes, type PurseAlgorithm } from '../../src/core/credentials/tunion/purseCrypto.js';
import type { ApduResponder } from '../virtualCard.js';
import { cardKey, hexKey, TEST_KEY_VERSION, TEST_MASTER_KEYS } from './testKeys.js';

const SW_OK = [0x90, 0x00];

/**
 * A PSAM (the purchase security module of a transit gate) answering APDUs:
 * its terminal id (binary file 16), its transport application (DF 8011),
 * MAC1 for a card's purchase (`80 70`, with the card's key diversified from
 * the master key it holds) and the check of the card's MAC2 (`80 72`). Its
 * transaction serial counts up with every MAC1, as a real one's does.
 */
export class VirtualPsam implements ApduResponder {
  readonly atr = Uint8Array.from([0x3b, 0x6c, 0x00, 0x00, 0x50, 0x53, 0x41, 0x4d]);
  private selected = false;
  private session: { algorithm: PurseAlgorithm; key: Uint8Array; amount: number } | undefined;
  /** Every MAC1 it gave, every MAC2 it checked: a test's view of what the PSAM did. */
  readonly log: { mac1: number; mac2Checked: number; mac2Rejected: number } = { mac1: 0, mac2Checked: 0, mac2Rejected: 0 };

  constructor(
    readonly terminalId: Uint8Array = hexKey('000000012345'),
    private serial = 0x100,
    private readonly masters: Readonly<Record<PurseAlgorithm, { purchase: string }>> = TEST_MASTER_KEYS,
  ) {}

  reset(): void {
    this.selected = false;
    this.session = undefined;
  }

  respond(apdu: Uint8Array): Uint8Array {
    const [cla, ins, p1, p2] = apdu as unknown as [number, number, number, number];
    if (cla === 0x00 && ins === 0xb0 && p1 === 0x96 && p2 === 0x00) return Uint8Array.from([...this.terminalId, ...SW_OK]);
    if (cla === 0x00 && ins === 0xa4) {
      this.selected = apdu[4] === 2 && apdu[5] === 0x80 && apdu[6] === 0x11;
      return Uint8Array.from(this.selected ? SW_OK : [0x6a, 0x82]);
    }
    if (cla !== 0x80) return Uint8Array.from([0x6e, 0x00]);
    if (!this.selected) return Uint8Array.from([0x69, 0x85]);
    if (ins === 0x70) return this.mac1(apdu.subarray(5, 5 + (apdu[4] ?? 0)));
    if (ins === 0x72) return this.verifyMac2(apdu.subarray(5, 9));
    return Uint8Array.from([0x6d, 0x00]);
  }

  private mac1(data: Uint8Array): Uint8Array {
    if (data.length !== 36) return Uint8Array.from([0x67, 0x00]);
    const b = Buffer.from(data);
    const random = data.slice(0, 4);
    const atc = b.readUInt16BE(4);
    const amount = b.readUInt32BE(6);
    const type = data[10]!;
    const dateTime = data.slice(11, 18);
    const keyVersion = data[18]!;
    const algorithm = purseAlgorithm(data[19]!);
    const serial = data.slice(20, 28);
    const issuerCode = data.slice(28, 32);
    // No key of that version or algorithm: referenced data not found.
    if (keyVersion !== TEST_KEY_VERSION || !algorithm) return Uint8Array.from([0x6a, 0x88]);
    const key = cardKey(algorithm, hexKey(this.masters[algorithm].purchase), issuerCode, serial);
    const terminalSerial = Uint8Array.from(Buffer.from(this.serial.toString(16).padStart(8, '0'), 'hex'));
    this.serial = (this.serial + 1) >>> 0;
    const session = purchaseSessionKey(algorithm, key, random, atc, terminalSerial);
    this.session = { algorithm, key: session, amount };
    this.log.mac1++;
    const mac = purseMac(algorithm, session, mac1Data(amount, type, this.terminalId, dateTime));
    return Uint8Array.from([...terminalSerial, ...mac, ...SW_OK]);
  }

  private verifyMac2(mac2: Uint8Array): Uint8Array {
    const session = this.session;
    this.session = undefined;
    if (!session) return Uint8Array.from([0x69, 0x85]);
    this.log.mac2Checked++;
    const ok = sameBytes(purseMac(session.algorithm, session.key, mac2Data(session.amount)), mac2);
    if (!ok) this.log.mac2Rejected++;
    return Uint8Array.from(ok ? SW_OK : [0x93, 0x02]);
  }
}
