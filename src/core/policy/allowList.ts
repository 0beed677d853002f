/** Who an access gate lets through: a subject of an issuer (a CG card, a code's account) or a UID card (issuer `uid`). */
export interface AllowEntry {
  issuer: string;
  subject: string;
  /** The name of a schedule in the access settings; absent: at any time. */
  schedule?: string;
}

/**
 * The allow-list, looked up in constant time: a hospital or an industrial
 * park lists tens of thousands of badges, and every tap looks one up.
 */
export class AllowList {
  private readonly entries = new Map<string, AllowEntry>();

  constructor(entries: Iterable<AllowEntry>) {
    for (const entry of entries) this.entries.set(keyOf(entry.issuer, entry.subject), entry);
  }

  find(issuer: string, subject: string): AllowEntry | undefined {
    return this.entries.get(keyOf(issuer, subject));
  }

  get size(): number {
    return this.entries.size;
  }
}

// Length-prefixed, so that no issuer and subject run together into another pair's key.
function keyOf(issuer: string, subject: string): string {
  return `${issuer.length}:${issuer}${subject}`;
}
