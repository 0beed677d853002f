import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encryptBlocks, mac1Data, mac2Data, purchaseSessionKey, purseMac, SM4_AVAILABLE, tacKey } from '../src/core/credentials/tunion/purseCrypto.js';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replaceAll(' ', ''), 'hex'));
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase();

describe('purse cryptography', () => {
  // The worked example CARDS.md §2 cites (blog.csdn.net/slj_win/article/details/42240845): its inputs as the post gives them.
  const purchaseKey = hex('11223344556677888877665544332211');
  const random = hex('11223344');
  const atc = 0x0000;
  const terminalSerial = hex('00000001');

  it('derives the worked example session key from random, offline ATC and terminal serial', () => {
    expect(text(purchaseSessionKey('3des', purchaseKey, random, atc, terminalSerial))).toBe('003238ABC57659DD');
  });

  it('computes the worked example MAC1 (amount, type 06, terminal, date-time) and MAC2 (amount)', () => {
    const session = hex('003238ABC57659DD');
    expect(text(purseMac('3des', session, mac1Data(0x1000, 0x06, hex('001122334455'), hex('20120229135100'))))).toBe('F15CAB75');
    expect(text(purseMac('3des', session, mac2Data(0x1000)))).toBe('56988A13');
  });

  it('a wrong input changes the MAC', () => {
    const session = hex('003238ABC57659DD');
    expect(text(purseMac('3des', session, mac2Data(0x1001)))).not.toBe('56988A13');
  });

  it('takes the TAC key as the XOR of the halves of the card TAC key (the same post)', () => {
    expect(text(tacKey('3des', hex('00112233445566778899AABBCCDDEEFF')))).toBe('8888888888888888');
  });

  it('has SM4 in this Node', () => {
    expect(SM4_AVAILABLE).toBe(true);
  });

  // GB/T 32907-2016 Appendix A.
  it('encrypts the GB/T 32907 example 1 with SM4', () => {
    const key = hex('0123456789ABCDEFFEDCBA9876543210');
    expect(text(encryptBlocks('sm4', key, key))).toBe('681EDF34D206965E86B3E94F536E4246');
  });

  it('gives the GB/T 32907 example 2 after 1,000,000 encryptions', () => {
    const key = hex('0123456789ABCDEFFEDCBA9876543210');
    // One cipher object for the million blocks: encryptBlocks' one object per call would take far longer.
    const cipher = createCipheriv('sm4-ecb', key, null);
    cipher.setAutoPadding(false);
    let block: Buffer = Buffer.from(key);
    for (let i = 0; i < 1_000_000; i++) block = cipher.update(block);
    expect(text(block)).toBe('595298C7C6FD271F0402F804C33D3F66');
    // And the first round through the module's own path agrees with the loop's first step.
    expect(text(encryptBlocks('sm4', key, key))).toBe(text(createCipheriv('sm4-ecb', key, null).setAutoPadding(false).update(key)));
  });

  it('pads an SM4 MAC to 16-byte blocks: data of exactly one block takes a second', () => {
    const key = hex('0123456789ABCDEFFEDCBA9876543210');
    const one = purseMac('sm4', key, new Uint8Array(15));
    const two = purseMac('sm4', key, new Uint8Array(16));
    expect(one).toHaveLength(4);
    expect(text(one)).not.toBe(text(two));
  });
});
