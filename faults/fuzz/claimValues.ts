import fc from 'fast-check';
import { CATEGORIES } from '../../src/core/credentials/credential.js';
import { coseKeyOf, type KeyPair } from '../../sim/issuer.js';
import { cborItem, mapOf } from './cborValues.js';
import { issuers, NOW, SITE, ZONE } from './world.js';

/*
 * Right-typed values for CWT claims and COSE keys, near the gate's time and
 * names, so that generated credentials get past "is it a map" to the checks
 * that matter: validity, product rules, key import.
 */

export const CLAIM_LABELS = [1, 2, 4, 5, 6, 7, 8, -65537, -65538];
const COSE_KEY_LABELS = [1, 3, -1, -2, -3];

export const nearNow = (spread: number): fc.Arbitrary<number> => fc.integer({ min: NOW - spread, max: NOW + spread });

const time = fc.oneof(nearNow(400), fc.double({ min: NOW - 400, max: NOW + 400 }), fc.bigInt({ min: BigInt(NOW - 400), max: BigInt(NOW + 400) }));

/** COSE_Key maps of every shape: genuine keys, keys with a wrong curve, compressed points off the curve, short coordinates. */
export function coseKeys(genuine: readonly KeyPair[]): fc.Arbitrary<Map<unknown, unknown>> {
  const real = genuine.map(coseKeyOf);
  const coordinate = (label: number) =>
    fc.oneof(fc.uint8Array({ minLength: 31, maxLength: 33 }), fc.constantFrom(...real.map((k) => k.get(label)).filter((v) => v !== undefined)), ...(label === -3 ? [fc.boolean()] : []));
  const value = (label: unknown): fc.Arbitrary<unknown> => {
    switch (label) {
      case 1:
        return fc.constantFrom(1, 2, 3, 'EC2');
      case 3:
        return fc.constantFrom(-7, -8, -35, 'ES256');
      case -1:
        return fc.constantFrom(1, 2, 6, 7);
      default:
        return coordinate(label as number);
    }
  };
  return fc.oneof(fc.constantFrom(...real), mapOf(COSE_KEY_LABELS, value));
}

export function claimValue(holderKeys: readonly KeyPair[]): (label: unknown) => fc.Arbitrary<unknown> {
  const cnf = coseKeys(holderKeys).map((key) => new Map([[1, key]]));
  const product = mapOf(['site', 'zone', 'from', 'until', 'entries', 'price'], (field) =>
    field === 'site' ? fc.constantFrom(SITE, 'elsewhere', '') : field === 'zone' ? fc.constantFrom(ZONE, 'z9') : field === 'entries' ? fc.integer({ min: -2, max: 5 }) : nearNow(7200),
  );
  return (label) => {
    switch (label) {
      case 1:
        return fc.constantFrom(issuers.es.id, issuers.ed.id, 'xx.stranger', '');
      case 2:
        return fc.oneof(fc.constantFrom('acct-1', 'acct-denied', ''), fc.string({ maxLength: 12 }));
      case 4:
      case 5:
      case 6:
        return time;
      case 7:
        return fc.uint8Array({ maxLength: 20 });
      case 8:
        return cnf;
      case -65537:
        return fc.constantFrom(...CATEGORIES, 'robot');
      case -65538:
        return product;
      default:
        return cborItem;
    }
  };
}

/** Claim maps of random shape, mostly made of right-typed values. */
export function claimMaps(holderKeys: readonly KeyPair[]): fc.Arbitrary<Map<unknown, unknown>> {
  return mapOf(CLAIM_LABELS, claimValue(holderKeys));
}
