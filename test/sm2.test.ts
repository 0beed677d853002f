import { describe, expect, it } from 'vitest';
import { SM2_DEFAULT_USER_ID, Sm2KeyError, Sm2PublicKey, sm3 } from '../src/core/crypto/sm2.js';
import { SM2_P256, sm2Curve } from '../src/core/crypto/sm2Curve.js';
import { sm2Sign } from '../bench/sm2Verify.js';

const hex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const ascii = (s: string) => new TextEncoder().encode(s);
const big = (h: string) => BigInt('0x' + h.replace(/\s+/g, ''));

/*
 * GM/T 0003.5-2012 (GB/T 32918.5) signature example on the recommended curve,
 * as OpenSSL's test/sm2_internal_test.c, Go and C implementations publish it.
 */
const GMT = {
  d: big('3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8'),
  x: '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020',
  y: 'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13',
  za: 'B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3',
  e: 'F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640',
  k: big('59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21'),
  r: 'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3',
  s: 'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA',
  message: ascii('message digest'),
};

/*
 * GB/T 32918.2 (GM/T 0003.2) Annex A example on its Fp-256 test curve, as
 * OpenSSL's sm2_internal_test.c and Bouncy Castle's SM2SignerTest use it.
 */
const ANNEX_A = {
  curve: {
    p: big('8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3'),
    a: big('787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498'),
    b: big('63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A'),
    Gx: big('421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D'),
    Gy: big('0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2'),
    n: big('8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7'),
  },
  d: big('128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263'),
  x: '0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A',
  y: '7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857',
  id: ascii('ALICE123@YAHOO.COM'),
  za: 'F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A',
  r: '40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1',
  s: '6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7',
  message: ascii('message digest'),
};

const gmtKey = hex('04' + GMT.x + GMT.y);
const gmtSig = hex(GMT.r + GMT.s);
const N = SM2_P256.n;

function flipBit(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const copy = bytes.slice();
  copy[index]! ^= 1 << bit;
  return copy;
}

function sigOf(r: bigint, s: bigint): Uint8Array {
  return hex(r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0'));
}

describe('SM3', () => {
  it('hashes the GB/T 32905 examples', () => {
    expect(toHex(sm3(ascii('abc')))).toBe('66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0');
    expect(toHex(sm3(ascii('abcd'.repeat(16))))).toBe('DEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732');
  });

  it('hashes its parts as one message', () => {
    expect(toHex(sm3(ascii('ab'), new Uint8Array(0), ascii('c')))).toBe('66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0');
  });
});

describe('SM2 on the recommended curve (GM/T 0003.5 example)', () => {
  it('derives the published public key from the private key', () => {
    expect(toHex(SM2_P256.Point.BASE.multiply(GMT.d).toBytes(false))).toBe('04' + GMT.x + GMT.y);
  });

  it('computes the published Z_A and e with the default id', () => {
    const key = Sm2PublicKey.parse(gmtKey);
    expect(toHex(SM2_DEFAULT_USER_ID)).toBe(toHex(ascii('1234567812345678')));
    expect(toHex(key.za())).toBe(GMT.za);
    expect(toHex(sm3(key.za(), GMT.message))).toBe(GMT.e);
  });

  it('verifies the published signature', () => {
    expect(Sm2PublicKey.parse(gmtKey).verify(GMT.message, gmtSig)).toBe(true);
    expect(Sm2PublicKey.parse(gmtKey).verify(GMT.message, gmtSig, ascii('1234567812345678'))).toBe(true);
  });

  it('the bench and test signer reproduces the published r, s with the published k', () => {
    expect(toHex(sm2Sign(GMT.d, GMT.message, SM2_DEFAULT_USER_ID, GMT.k))).toBe(GMT.r + GMT.s);
  });

  it('takes 04||X||Y, X||Y and 02/03||X alike', () => {
    const compressed = SM2_P256.Point.fromBytes(gmtKey).toBytes(true);
    for (const encoded of [gmtKey, gmtKey.subarray(1), compressed]) {
      const key = Sm2PublicKey.parse(encoded);
      expect(toHex(key.uncompressed)).toBe('04' + GMT.x + GMT.y);
      expect(key.verify(GMT.message, gmtSig)).toBe(true);
      expect(key.verify(flipBit(GMT.message, 0), gmtSig)).toBe(false);
    }
  });
});

describe('SM2 on the GB/T 32918.2 Annex A test curve', () => {
  const curve = sm2Curve(ANNEX_A.curve);

  it('derives the published public key, Z_A, and verifies the published signature', () => {
    expect(toHex(curve.Point.BASE.multiply(ANNEX_A.d).toBytes(false))).toBe('04' + ANNEX_A.x + ANNEX_A.y);
    const key = Sm2PublicKey.parse(hex(ANNEX_A.x + ANNEX_A.y), curve);
    expect(toHex(key.za(ANNEX_A.id))).toBe(ANNEX_A.za);
    expect(key.verify(ANNEX_A.message, hex(ANNEX_A.r + ANNEX_A.s), ANNEX_A.id)).toBe(true);
    expect(key.verify(ANNEX_A.message, hex(ANNEX_A.r + ANNEX_A.s))).toBe(false);
  });

  it('its key is not a point of the recommended curve', () => {
    expect(() => Sm2PublicKey.parse(hex(ANNEX_A.x + ANNEX_A.y))).toThrow(Sm2KeyError);
  });
});

describe.each([
  ['parse', (encoded: Uint8Array) => Sm2PublicKey.parse(encoded)],
  ['fixed', (encoded: Uint8Array) => Sm2PublicKey.fixed(encoded)],
])('SM2 rejections with a %s key', (_name, load) => {
  const key = load(gmtKey);
  const r = big(GMT.r);
  const s = big(GMT.s);

  it('accepts the published signature', () => {
    expect(key.verify(GMT.message, gmtSig)).toBe(true);
    expect(toHex(key.za())).toBe(GMT.za);
  });

  it('refuses a flipped bit in the message, r or s', () => {
    expect(key.verify(flipBit(GMT.message, 13, 7), gmtSig)).toBe(false);
    expect(key.verify(GMT.message, flipBit(gmtSig, 31))).toBe(false);
    expect(key.verify(GMT.message, flipBit(gmtSig, 32, 4))).toBe(false);
    expect(key.verify(GMT.message, flipBit(gmtSig, 0, 7))).toBe(false);
  });

  it('refuses r or s of 0, n or above, and r + s = n', () => {
    const max = 2n ** 256n - 1n;
    for (const [badR, badS] of [
      [0n, s],
      [r, 0n],
      [N, s],
      [r, N],
      [max, s],
      [r, max],
      [r, N - r],
    ] as const) {
      expect(key.verify(GMT.message, sigOf(badR, badS))).toBe(false);
    }
  });

  it('refuses a signature of the wrong length, or not bytes', () => {
    for (const sig of [new Uint8Array(0), gmtSig.subarray(0, 63), new Uint8Array([...gmtSig, 0]), new Uint8Array([0, ...gmtSig])]) {
      expect(key.verify(GMT.message, sig)).toBe(false);
    }
    expect(key.verify(GMT.message, GMT.r + GMT.s as unknown as Uint8Array)).toBe(false);
    expect(key.verify(null as unknown as Uint8Array, gmtSig)).toBe(false);
  });

  it('refuses another user id, and an id too long for ENTL', () => {
    expect(key.verify(GMT.message, gmtSig, ascii('1234567812345679'))).toBe(false);
    expect(key.verify(GMT.message, gmtSig, new Uint8Array(0))).toBe(false);
    expect(key.verify(GMT.message, gmtSig, new Uint8Array(8192))).toBe(false);
    expect(() => key.za(new Uint8Array(8192))).toThrow(RangeError);
    expect(key.za(new Uint8Array(8191))).toHaveLength(32);
  });

  it('refuses the signature under another key', () => {
    const other = load(SM2_P256.Point.BASE.multiply(GMT.d + 1n).toBytes(false));
    expect(other.verify(GMT.message, gmtSig)).toBe(false);
  });

  it('throws Sm2KeyError for a point off the curve, a bad prefix or length', () => {
    expect(() => load(flipBit(gmtKey, 64))).toThrow(Sm2KeyError);
    expect(() => load(flipBit(gmtKey, 1))).toThrow(Sm2KeyError);
    expect(() => load(hex('05' + GMT.x + GMT.y))).toThrow(Sm2KeyError);
    expect(() => load(gmtKey.subarray(0, 64 - 1))).toThrow(Sm2KeyError);
    expect(() => load(new Uint8Array(65))).toThrow(Sm2KeyError);
    expect(() => load(hex('04' + 'FF'.repeat(64)))).toThrow(Sm2KeyError);
    expect(() => load('04' as unknown as Uint8Array)).toThrow(Sm2KeyError);
  });

  it('throws Sm2KeyError for a compressed x with no point', () => {
    // Half the x values have no y; find the first one after G's.
    let x = big('32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7');
    for (;;) {
      x += 1n;
      const encoded = hex('02' + x.toString(16).padStart(64, '0'));
      try {
        SM2_P256.Point.fromBytes(encoded);
      } catch {
        expect(() => load(encoded)).toThrow(Sm2KeyError);
        return;
      }
    }
  });
});

describe('fixed keys', () => {
  it('gives the same answers as parse on random signatures', () => {
    const d = 0x1234_5678_9abc_def0n * 0x0fed_cba9_8765_4321n;
    const encoded = SM2_P256.Point.BASE.multiply(d).toBytes(false);
    const parsed = Sm2PublicKey.parse(encoded);
    const fixed = Sm2PublicKey.fixed(encoded);
    for (let i = 0; i < 20; i++) {
      const message = ascii(`tap ${i}`);
      const signature = sm2Sign(d, message);
      const tampered = flipBit(signature, i % 64, i % 8);
      expect(fixed.verify(message, signature)).toBe(true);
      expect(parsed.verify(message, signature)).toBe(true);
      expect(fixed.verify(message, tampered)).toBe(parsed.verify(message, tampered));
      expect(fixed.verify(message, tampered)).toBe(false);
    }
  });

  it('returns the cached key for the same encoding', () => {
    expect(Sm2PublicKey.fixed(gmtKey)).toBe(Sm2PublicKey.fixed(gmtKey.slice()));
    expect(Sm2PublicKey.parse(gmtKey)).not.toBe(Sm2PublicKey.parse(gmtKey));
  });

  it('za() hands out a copy, so a caller cannot corrupt the cache', () => {
    const key = Sm2PublicKey.fixed(gmtKey);
    key.za().fill(0);
    expect(toHex(key.za())).toBe(GMT.za);
    expect(key.verify(GMT.message, gmtSig)).toBe(true);
  });
});
