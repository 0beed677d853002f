/** A holder as rules that look back know them: by issuer and subject (a card number or an account id). */
export function holderKey(issuer: string, subject: string): string {
  return `${issuer}\u0000${subject}`;
}

/**
 * What holders did within the last `windowMs` (boardings, entries), forgotten
 * after it: memory holds at most two windows' taps. Older entries are
 * swept at most once a window, so a tap costs O(1) on average.
 */
export class RecentByHolder<T> {
  private readonly byHolder = new Map<string, { atMs: number; value: T }[]>();
  private sweptAtMs = -Infinity;

  constructor(private readonly windowMs: number) {}

  add(holder: string, atMs: number, value: T): void {
    const list = this.byHolder.get(holder);
    if (list) list.push({ atMs, value });
    else this.byHolder.set(holder, [{ atMs, value }]);
    if (atMs - this.sweptAtMs >= this.windowMs) this.sweep(atMs);
  }

  /** The holder's entries from the window before `nowMs`, oldest first. */
  recent(holder: string, nowMs: number): { atMs: number; value: T }[] {
    return (this.byHolder.get(holder) ?? []).filter((e) => nowMs - e.atMs < this.windowMs);
  }

  forget(holder: string): void {
    this.byHolder.delete(holder);
  }

  private sweep(nowMs: number): void {
    this.sweptAtMs = nowMs;
    for (const [holder, list] of this.byHolder) {
      const kept = list.filter((e) => nowMs - e.atMs < this.windowMs);
      if (kept.length === 0) this.byHolder.delete(holder);
      else this.byHolder.set(holder, kept);
    }
  }
}
