/** Holder categories an issuer may put in a credential (DESIGN.md §2, claim -65537). */
export const CATEGORIES = ['adult', 'senior', 'student', 'child', 'disabled', 'staff'] as const;
export type Category = (typeof CATEGORIES)[number];

/** The product claim (-65538): what a ticket allows. Times are epoch seconds. */
export interface Product {
  site?: string;
  from?: number;
  until?: number;
  entries: number;
  zone?: string;
}

export type CredentialKind = 'card' | 'code' | 'uid';
/**
 * `issuer`: issuer-signed code; `holder`: holder-bound offline code; `card`:
 * CG card; `uid`: a card known only by its chip UID (nothing signed, clonable).
 */
export type CredentialProfile = 'issuer' | 'holder' | 'card' | 'uid';

/** A credential whose signatures and validity times have been checked. */
export interface Credential {
  kind: CredentialKind;
  profile: CredentialProfile;
  issuer: string;
  subject: string;
  category: Category;
  product: Product | undefined;
  /** Hex of the `cti` claim, when the credential has one (for deny lists). */
  cti: string | undefined;
  /**
   * What makes this presentation single-use, and until when (epoch ms) it must
   * be remembered. Cards have none: a card proves presence by its challenge.
   */
  replay: { key: string; until: number } | undefined;
}
