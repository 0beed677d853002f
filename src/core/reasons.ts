/**
 * The `reason` of a tap. The first block is the contract of DESIGN.md §2 with
 * issuers and fleet ops; the second block is this gate's own additions. A code
 * is never reused for another meaning.
 */
export const CONTRACT_REASONS = [
  'ok',
  'malformed',
  'unknown-issuer',
  'unknown-key',
  'bad-signature',
  'not-yet-valid',
  'expired',
  'stale',
  'replayed',
  'deny-listed',
  'wrong-site',
  'outside-window',
  'entries-used',
  'category-not-allowed',
  'card-removed',
  'card-auth-failed',
  'passback',
  'clock-untrusted',
  'journal-unavailable',
] as const;

export const GATE_REASONS = [
  /** The product names a zone this gate is not in. */
  'wrong-zone',
  /** A card answered, but not with the CG card application (DESIGN.md §3). */
  'card-not-supported',
  /** The reader or card did not answer in time. */
  'card-timeout',
] as const;

export type Reason = (typeof CONTRACT_REASONS)[number] | (typeof GATE_REASONS)[number];
export type RefusalReason = Exclude<Reason, 'ok'>;

/** Who a refused credential belongs to, known once its signature verified. */
export interface Identity {
  issuer: string;
  subject: string;
  category: string;
}

/** A credential or a rule said no. `detail` is for logs and technicians, never shown to passengers. */
export class Refusal extends Error {
  identity: Identity | undefined;

  constructor(
    readonly reason: RefusalReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'Refusal';
  }
}

export function refuse(reason: RefusalReason, detail: string): never {
  throw new Refusal(reason, detail);
}

/** Run a check on a credential whose signature verified; a refusal from it names the holder. */
export function asIdentified<T>(identity: Identity, check: () => T): T {
  const annotate = (error: unknown): never => {
    if (error instanceof Refusal) error.identity ??= identity;
    throw error;
  };
  try {
    const result = check();
    return (result instanceof Promise ? result.catch(annotate) : result) as T;
  } catch (error) {
    return annotate(error);
  }
}
