/**
 * The key a tap records when it uses entries of a ticket: the ticket's id
 * (`ticket:<issuer, URI-encoded>:<cti hex>`, see {@link ticketId}) with the
 * number of entries used once this tap is counted, then a space and the key of
 * the code that carried the ticket. One key, so it is journaled with the tap
 * and shared with the site like any other used key:
 * `ticket:3:cq.yukuaima:00112233… code:Xk2…`.
 */
const TICKET_USE = /^(ticket:)(\d{1,9}):([^ :]+:[0-9a-f]+)(?: (.+))?$/;

/** A ticket's id: its issuer (URI-encoded: no spaces or colons) and its `cti`. */
export function ticketId(issuer: string, cti: string): string {
  return `ticket:${encodeURIComponent(issuer)}:${cti}`;
}

/** The one key a tap records for a ticket it used (`used` entries in all, now) and the code that carried it. */
export function ticketUseKey(id: string, used: number, codeKey: string | undefined): string {
  const [, issuerAndCti] = /^ticket:(.+)$/.exec(id)!;
  return `ticket:${used}:${issuerAndCti}${codeKey === undefined ? '' : ` ${codeKey}`}`;
}

/**
 * Single-use credentials seen at this gate, each remembered until it could no
 * longer be accepted anyway, and the entries used of each ticket. The gate
 * persists the keys with the tap row (see Journal) and reloads them at start,
 * so a restart opens no replay window and gives no ticket its entries back.
 */
export class ReplayGuard {
  private readonly used = new Map<string, number>();
  /** Key -> the gate of the site that used it, for keys learned from the site (not journaled here). */
  private readonly usedAt = new Map<string, string>();
  /** Ticket id -> the most entries a remembered use says are used, and until when that holds. */
  private readonly tickets = new Map<string, { used: number; until: number }>();
  private lastPrune = 0;

  seen(key: string, nowMs: number): boolean {
    const until = this.used.get(key);
    return until !== undefined && until > nowMs;
  }

  /** The other gate of the site that used `key`, when it was learned from the site since this start. */
  usedElsewhere(key: string): string | undefined {
    return this.usedAt.get(key);
  }

  /** Entries of the ticket `id` ({@link ticketId}) used so far, here or at the site. */
  ticketUses(id: string, nowMs: number): number {
    const entry = this.tickets.get(id);
    return entry !== undefined && entry.until > nowMs ? entry.used : 0;
  }

  /** `gate`: the other gate of the site that used it (site sharing); none for this gate's own taps and the journal's keys. */
  remember(key: string, untilMs: number, nowMs: number, gate?: string): void {
    this.used.set(key, untilMs);
    if (gate !== undefined) this.usedAt.set(key, gate);
    const ticket = TICKET_USE.exec(key);
    if (ticket) {
      const [, prefix, count, issuerAndCti, codeKey] = ticket;
      const id = `${prefix}${issuerAndCti}`;
      const held = this.tickets.get(id);
      const used = Number(count);
      if (!held || held.until <= nowMs || used > held.used) this.tickets.set(id, { used, until: Math.max(untilMs, held?.until ?? 0) });
      if (codeKey !== undefined) this.used.set(codeKey, Math.max(untilMs, this.used.get(codeKey) ?? 0));
      if (codeKey !== undefined && gate !== undefined) this.usedAt.set(codeKey, gate);
    }
    if (nowMs - this.lastPrune > 60_000) this.prune(nowMs);
  }

  size(): number {
    return this.used.size;
  }

  private prune(nowMs: number): void {
    this.lastPrune = nowMs;
    for (const [key, until] of this.used) {
      if (until > nowMs) continue;
      this.used.delete(key);
      this.usedAt.delete(key);
    }
    for (const [id, entry] of this.tickets) if (entry.until <= nowMs) this.tickets.delete(id);
  }
}
