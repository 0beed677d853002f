import { afterAll, afterEach, beforeAll } from 'vitest';
import { Mosquitto } from './mosquitto.js';

/** What a test starts (a gate, a pty, a client) is stopped after it, last started first. */
export function cleanupAfterEach(): (cleanup: () => Promise<void>) => void {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => void cleanups.push(cleanup);
}

/** One private broker for a test file; `broker()` is valid inside tests. */
export function brokerForFile(): () => Mosquitto {
  let broker: Mosquitto | undefined;
  beforeAll(async () => {
    broker = await Mosquitto.start();
  });
  afterAll(async () => {
    await broker?.stop();
  });
  return () => broker!;
}
