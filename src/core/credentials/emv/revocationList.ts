/**
 * An issuer public key certificate the fleet no longer trusts (EMV
 * Certification Revocation List entry): the payment system (RID), the index
 * of the CA public key that certified the issuer key, and the issuer
 * certificate's serial number. All upper-case hex.
 */
export interface RevocationEntry {
  /** Registered application provider identifier, 5 bytes: 10 hex digits. */
  rid: string;
  /** CA public key index, 1 byte: 2 hex digits. */
  index: string;
  /** Issuer certificate serial number, 3 bytes: 6 hex digits. */
  serial: string;
}

/** A revocation list that cannot be read: names the source, the entry and the field. */
export class RevocationListError extends Error {
  override name = 'RevocationListError';
}

function keyOf(rid: string, index: string, serial: string): string {
  return `${rid}:${index}:${serial}`.toUpperCase();
}

/** What a bad field held, short enough for a log line. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (value === undefined) return 'nothing';
  return value === null ? 'null' : typeof value;
}

function readEntry(item: unknown, where: string): RevocationEntry {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new RevocationListError(`${where}: not an object with "rid", "index" and "serial"`);
  const fields = item as Record<string, unknown>;
  const hex = (name: keyof RevocationEntry, digits: number): string => {
    const value = fields[name];
    if (typeof value !== 'string' || value.length !== digits || !/^[0-9A-Fa-f]*$/.test(value)) {
      throw new RevocationListError(`${where}.${name}: expected ${digits} hex digits, got ${shown(value)}`);
    }
    return value.toUpperCase();
  };
  return { rid: hex('rid', 10), index: hex('index', 2), serial: hex('serial', 6) };
}

/**
 * The issuer certificates a gate refuses bank cards for (`certificate-revoked`).
 * Looked up on the tap path, so by a set of keys.
 */
export class RevocationList {
  static readonly EMPTY = new RevocationList([]);
  private readonly keys: ReadonlySet<string>;

  private constructor(readonly entries: readonly RevocationEntry[]) {
    this.keys = new Set(entries.map((e) => keyOf(e.rid, e.index, e.serial)));
  }

  /**
   * `{"revoked": [{"rid", "index", "serial"}, ...]}`; other top-level fields
   * (a seq, an expiry) are left to whoever carries the list. An entry listed
   * twice is refused: it is a mistake in whatever produced the list.
   */
  static fromDocument(document: unknown, source: string): RevocationList {
    const revoked = typeof document === 'object' && document !== null ? (document as { revoked?: unknown }).revoked : undefined;
    if (!Array.isArray(revoked)) throw new RevocationListError(`${source}: expected an object with a "revoked" array`);
    const entries: RevocationEntry[] = [];
    const seen = new Map<string, number>();
    revoked.forEach((item, i) => {
      const entry = readEntry(item, `${source}: revoked[${i}]`);
      const key = keyOf(entry.rid, entry.index, entry.serial);
      const first = seen.get(key);
      if (first !== undefined) throw new RevocationListError(`${source}: revoked[${i}]: ${key} repeats revoked[${first}]`);
      seen.set(key, i);
      entries.push(Object.freeze(entry));
    });
    return new RevocationList(Object.freeze(entries));
  }

  /** Hex in either case: a card's bytes are often written lower-case. */
  isRevoked(rid: string, index: string, serial: string): boolean {
    return this.keys.has(keyOf(rid, index, serial));
  }
}
