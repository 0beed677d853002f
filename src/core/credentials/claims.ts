import { refuse } from '../reasons.js';
import { isBytes, isMap } from './cbor.js';
import { CATEGORIES, type Category, type Product } from './credential.js';

/** CWT claims (RFC 8392) as a CG credential carries them. Times are epoch seconds. */
export interface Claims {
  iss: string;
  sub: string;
  exp: number;
  iat: number | undefined;
  nbf: number | undefined;
  cti: Uint8Array | undefined;
  category: Category;
  product: Product | undefined;
  /** The `cnf` COSE_Key map, when the credential binds a holder or card key. */
  cnfKey: Map<unknown, unknown> | undefined;
}

const ISS = 1;
const SUB = 2;
const EXP = 4;
const NBF = 5;
const IAT = 6;
const CTI = 7;
const CNF = 8;
const CNF_COSE_KEY = 1;
const CATEGORY = -65537;
const PRODUCT = -65538;

function numericDate(value: unknown, name: string, what: string): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) refuse('malformed', `${what}: ${name} is missing or not a NumericDate`);
  return n;
}

function optionalDate(claims: Map<unknown, unknown>, label: number, name: string, what: string): number | undefined {
  const value = claims.get(label);
  return value === undefined ? undefined : numericDate(value, name, what);
}

function text(value: unknown, name: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) refuse('malformed', `${what}: ${name} is missing or not text`);
  return value;
}

function parseProduct(value: unknown, what: string): Product {
  if (!isMap(value)) refuse('malformed', `${what}: product claim is not a map`);
  const product: Product = { entries: 1 };
  for (const [key, field] of value) {
    switch (key) {
      case 'site':
      case 'zone':
        product[key] = text(field, `product.${key}`, what);
        break;
      case 'from':
      case 'until':
        product[key] = numericDate(field, `product.${key}`, what);
        break;
      case 'entries': {
        const n = typeof field === 'bigint' ? Number(field) : field;
        if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) refuse('malformed', `${what}: product.entries is not an unsigned integer`);
        product.entries = n;
        break;
      }
      default:
        // Unknown product fields are the issuer's business; the gate ignores them.
        break;
    }
  }
  return product;
}

/**
 * Parse a claims map. `requireCti` holds for issuer-signed codes, whose
 * single use rests on the `cti`; `requireCnf` for holder-bound credentials and cards.
 */
export function parseClaims(value: unknown, what: string, need: { cti: boolean; iat: boolean; cnf: boolean }): Claims {
  if (!isMap(value)) refuse('malformed', `${what}: claims are not a map`);
  const cti = value.get(CTI);
  if (cti !== undefined && !isBytes(cti)) refuse('malformed', `${what}: cti is not a byte string`);
  if (need.cti && cti === undefined) refuse('malformed', `${what}: cti is missing`);
  const iat = optionalDate(value, IAT, 'iat', what);
  if (need.iat && iat === undefined) refuse('malformed', `${what}: iat is missing`);
  const category = value.get(CATEGORY);
  if (typeof category !== 'string' || !(CATEGORIES as readonly string[]).includes(category)) {
    // Only text is quoted: JSON.stringify throws on a bigint, which CBOR can carry.
    const shown = typeof category === 'string' ? JSON.stringify(category) : `of type ${typeof category}`;
    refuse('malformed', `${what}: holder category ${shown} is not one of ${CATEGORIES.join(', ')}`);
  }
  let cnfKey: Map<unknown, unknown> | undefined;
  const cnf = value.get(CNF);
  if (cnf !== undefined) {
    if (!isMap(cnf) || !isMap(cnf.get(CNF_COSE_KEY))) refuse('malformed', `${what}: cnf does not hold a COSE_Key`);
    cnfKey = cnf.get(CNF_COSE_KEY) as Map<unknown, unknown>;
  } else if (need.cnf) {
    refuse('malformed', `${what}: cnf (the holder key) is missing`);
  }
  const product = value.get(PRODUCT);
  return {
    iss: text(value.get(ISS), 'iss', what),
    sub: text(value.get(SUB), 'sub', what),
    exp: numericDate(value.get(EXP), 'exp', what),
    iat,
    nbf: optionalDate(value, NBF, 'nbf', what),
    cti,
    category: category as Category,
    product: product === undefined ? undefined : parseProduct(product, what),
    cnfKey,
  };
}
