/**
 * Remembers credentials whose issuer signature already verified, keyed by a
 * hash of the credential's bytes (signed bytes and signature), so that a regular holder's card
 * certificate or inner credential costs one verification, not two. Bounded:
 * the least recently used entry goes first.
 */
export class VerifiedCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly capacity = 20_000) {}

  get(key: string): T | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
