import type { DriverRegistry } from './boardBuilder.js';
import { startGate } from './daemon.js';

/** `citygate run`: serve until SIGTERM or SIGINT, then stop cleanly; resolves with the exit status. */
export async function runCommand(options: { config: string }, registry: DriverRegistry): Promise<number> {
  const running = await startGate(options.config, registry);
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`citygate: ${signal}: stopping\n`);
      running.stop().then(
        () => resolve(0),
        (error: unknown) => {
          process.stderr.write(`citygate: stop failed: ${(error as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
