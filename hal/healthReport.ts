/**
 * A driver's health as it tells the gate: only changes are reported, so a
 * device that repeats its state many times a second does not flood the log.
 */
export class HealthReport {
  private last: { healthy: boolean; detail: string } | undefined;

  constructor(private readonly emit: (healthy: boolean, detail: string) => void) {}

  get healthy(): boolean | undefined {
    return this.last?.healthy;
  }

  set(healthy: boolean, detail: string): void {
    if (this.last && this.last.healthy === healthy && this.last.detail === detail) return;
    this.last = { healthy, detail };
    this.emit(healthy, detail);
  }
}
