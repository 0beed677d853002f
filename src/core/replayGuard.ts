/**
 * Single-use credentials seen at this gate, each remembered until it could no
 * longer be accepted anyway. The gate persists them with the tap row (see
 * Journal) and reloads them at start, so a restart opens no replay window.
 */
export class ReplayGuard {
  private readonly used = new Map<string, number>();
  private lastPrune = 0;

  seen(key: string, nowMs: number): boolean {
    const until = this.used.get(key);
    return until !== undefined && until > nowMs;
  }

  remember(key: string, untilMs: number, nowMs: number): void {
    this.used.set(key, untilMs);
    if (nowMs - this.lastPrune > 60_000) this.prune(nowMs);
  }

  size(): number {
    return this.used.size;
  }

  private prune(nowMs: number): void {
    this.lastPrune = nowMs;
    for (const [key, until] of this.used) if (until <= nowMs) this.used.delete(key);
  }
}
