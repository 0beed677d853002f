/**
 * Credentials fleet ops have revoked, per issuer: holder subjects (card
 * numbers, account ids) and code ids written `cti:<hex>`.
 */
export interface DenyList {
  isDenied(issuer: string, subject: string, cti: string | undefined): boolean;
}

export const CTI_PREFIX = 'cti:';

/** A deny list held in memory, for the `check` command and small gates. */
export class MemoryDenyList implements DenyList {
  private readonly entries = new Set<string>();

  static fromDocument(document: Record<string, readonly string[]>): MemoryDenyList {
    const list = new MemoryDenyList();
    for (const [issuer, ids] of Object.entries(document)) for (const id of ids) list.add(issuer, id);
    return list;
  }

  add(issuer: string, id: string): void {
    this.entries.add(`${issuer}\n${id}`);
  }

  remove(issuer: string, id: string): void {
    this.entries.delete(`${issuer}\n${id}`);
  }

  isDenied(issuer: string, subject: string, cti: string | undefined): boolean {
    return this.entries.has(`${issuer}\n${subject}`) || (cti !== undefined && this.entries.has(`${issuer}\n${CTI_PREFIX}${cti}`));
  }
}
