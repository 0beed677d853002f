import { weierstrass, type WeierstrassPointCons } from '@noble/curves/abstract/weierstrass.js';
import { numberToBytesBE } from '@noble/curves/utils.js';

/** The domain parameters of an SM2 curve over Fp (cofactor 1). */
export interface Sm2CurveParams {
  p: bigint;
  a: bigint;
  b: bigint;
  n: bigint;
  Gx: bigint;
  Gy: bigint;
}

/** A curve ready for SM2: its point type, and the bytes every Z_A hashes (a || b || xG || yG). */
export interface Sm2Curve {
  readonly n: bigint;
  readonly Point: WeierstrassPointCons<bigint>;
  /** Field element length in bytes (32 for 256-bit curves). */
  readonly size: number;
  readonly zaParams: Uint8Array;
  /** G's table, built on the first verification rather than at import: every command loads this module, few verify. */
  readonly base: () => WeierstrassPointCons<bigint>['BASE'];
}

/** Window of G's table: 8 bits makes s·G about 33 additions, for a one-off 4k-point table. */
const BASE_WINDOW = 8;

export function sm2Curve(params: Sm2CurveParams): Sm2Curve {
  const Point = weierstrass({ ...params, h: 1n });
  let tabled = false;
  const base = (): WeierstrassPointCons<bigint>['BASE'] => {
    if (!tabled) Point.BASE.precompute(BASE_WINDOW);
    tabled = true;
    return Point.BASE;
  };
  const size = Point.Fp.BYTES;
  const zaParams = new Uint8Array(4 * size);
  [params.a, params.b, params.Gx, params.Gy].forEach((v, i) => zaParams.set(numberToBytesBE(v, size), i * size));
  return { n: params.n, Point, size, zaParams, base };
}

/** The recommended curve of GB/T 32918.5 (GM/T 0003.5), "sm2p256v1": the one cards and codes use. */
export const SM2_P256: Sm2Curve = sm2Curve({
  p: 0xfffffffe_ffffffff_ffffffff_ffffffff_ffffffff_00000000_ffffffff_ffffffffn,
  a: 0xfffffffe_ffffffff_ffffffff_ffffffff_ffffffff_00000000_ffffffff_fffffffcn,
  b: 0x28e9fa9e_9d9f5e34_4d5a9e4b_cf6509a7_f39789f5_15ab8f92_ddbcbd41_4d940e93n,
  n: 0xfffffffe_ffffffff_ffffffff_ffffffff_7203df6b_21c6052b_53bbf409_39d54123n,
  Gx: 0x32c4ae2c_1f198119_5f990446_6a39c994_8fe30bbf_f2660be1_715a4589_334c74c7n,
  Gy: 0xbc3736a2_f4f6779c_59bdcee3_6b692153_d0a9877c_c62a4740_02df32e5_2139f0a0n,
});
