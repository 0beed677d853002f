/** What a run started, undone last-started-first whether the run passed or threw. */
export class Teardown {
  private readonly steps: { what: string; step: () => unknown }[] = [];
  /** Steps that failed: a mount left behind is worth reporting, not hiding. */
  readonly failures: string[] = [];

  add(what: string, step: () => unknown): void {
    this.steps.push({ what, step });
  }

  async run(): Promise<void> {
    for (const { what, step } of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        // One part failing to stop must not leave the others running.
        this.failures.push(`${what}: ${(error as Error).message}`);
      }
    }
  }
}
