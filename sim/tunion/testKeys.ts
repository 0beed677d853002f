import { diversify, type PurseAlgorithm } from '../../src/core/credentials/tunion/purseCrypto.js';

/**
 * Test master keys of a simulated T-Union scheme, one set per algorithm:
 * the purchase key the PSAM holds, and the TAC key only the back office
 * (and the card) hold. Never real keys.
 */
export const TEST_MASTER_KEYS: Readonly<Record<PurseAlgorithm, { purchase: string; tac: string }>> = {
  '3des': { purchase: '3DE5C0FFEE00112233445566778899AA', tac: '7AC0000000000000FEDCBA9876543210' },
  sm4: { purchase: '5A4C0FFEE0112233445566778899AABB', tac: '7AC5A4000000000000123456789ABCDE' },
};

/** The key version these test keys carry (INITIALIZE's answer, MAC1's input). */
export const TEST_KEY_VERSION = 0x01;

/**
 * A card's keys, diversified as the PSAM does it (two levels, PBOC style):
 * first by the issuer's factor (issuer code ‖ FFFFFFFF), then by the card's
 * factor (the last 8 bytes of its application serial).
 */
export function cardKey(algorithm: PurseAlgorithm, master: Uint8Array, issuerCode: Uint8Array, serial: Uint8Array): Uint8Array {
  const issuerFactor = Uint8Array.from([...issuerCode, 0xff, 0xff, 0xff, 0xff]);
  return diversify(algorithm, diversify(algorithm, master, issuerFactor), serial);
}

export function hexKey(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}
