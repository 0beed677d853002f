import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * What a sim run must undo (temp directories, a private pcscd, the journal),
 * undone once, last added first: when the run ends, or when Ctrl-C or SIGTERM
 * stops it, after which the process exits 130 or 143 as a shell expects. A
 * step may wait on something still starting, so that a signal during a start
 * still stops what it started.
 */
export class RunCleanup {
  private readonly steps: (() => unknown)[] = [];
  private running: Promise<void> | undefined;
  private signalled = false;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.signalled = true;
    process.stderr.write(`sim: ${signal}: cleaning up\n`);
    void this.run().finally(() => process.exit(128 + constants.signals[signal]));
  };

  constructor() {
    for (const signal of SIGNALS) process.once(signal, this.onSignal);
  }

  add(step: () => unknown): void {
    this.steps.push(step);
  }

  /** Run `main`, then the cleanup; a run stopped by a signal never returns (the signal's exit ends the process). */
  async around<T>(main: () => Promise<T>): Promise<T> {
    try {
      return await main();
    } catch (error) {
      // Parts closing under a running sim make it fail; that failure is the signal's doing, not news.
      if (this.signalled) return new Promise<never>(() => undefined);
      throw error;
    } finally {
      await this.run();
    }
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const signal of SIGNALS) process.off(signal, this.onSignal);
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step();
        } catch (error) {
          process.stderr.write(`sim: cleanup: ${(error as Error).message}\n`);
        }
      }
    })();
    return this.running;
  }
}
