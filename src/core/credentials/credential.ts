import type { TunionSession } from './tunion/tunionSession.js';

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

export type CredentialKind = 'card' | 'code' | 'uid' | 'emv' | 'tunion';
/**
 * `issuer`: issuer-signed code; `holder`: holder-bound offline code; `card`:
 * CG card; `uid`: a card known only by its chip UID (nothing signed, clonable);
 * `emv`: a bank card (UnionPay QuickPass) authenticated offline by fDDA;
 * `transport`: a national transport QR code (交通一卡通二维码), kind `code`;
 * `tunion`: a T-Union purse card (JT/T 978), authenticated by its MAC2 when it pays.
 */
export type CredentialProfile = 'issuer' | 'holder' | 'card' | 'uid' | 'emv' | 'transport' | 'tunion';

/**
 * What the back office needs to claim a bank card's fare from its issuer
 * afterwards, and to tell the card's holder which tap was theirs. Never the
 * clear PAN: the subject is a keyed token, the PAN here is masked.
 */
export interface EmvTapData {
  /** The application selected (hex). */
  aid: string;
  /** First 6 and last 4 digits, the rest `*`. */
  pan: string;
  /** PAN sequence number `5F34` (two digits). */
  psn: string;
  /** Application expiry `5F24`, YYYY-MM-DD. */
  expiry: string;
  /** Application transaction counter `9F36`. */
  atc: number;
  /** `rsa` or `sm2`: which offline data authentication the card passed. */
  oda: 'rsa' | 'sm2';
  /** The card's and the gate's transaction data, tag (hex) -> value (hex): 9F26 9F27 9F10 95 9F37 9F02 5F2A 9A 9C 82 9F36. */
  data: Record<string, string>;
}

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
  /**
   * The ticket this credential carries, when its product names its `entries`
   * (a product without them is a pass): its use is bound to the ticket itself
   * (`id` from issuer and `cti`, see replayGuard.ts), whatever profile carries
   * it, so fresh codes from the same phone do not give it new entries. Until
   * when (epoch ms) its uses must be remembered.
   */
  ticket?: { id: string; entries: number; until: number };
  /** A bank card's claim data; absent for every other kind. */
  emv?: EmvTapData;
  /** A T-Union card in the field, read: the purse the gate debits (never journaled as such). */
  tunion?: TunionSession;
  /** The most this credential may be charged for one trip, in fen (a transport code's single-trip limit); absent: no limit. */
  fareLimit?: number;
}
