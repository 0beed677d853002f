import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time on this 2-core machine: the long files (crash loop, outage) mostly wait on
    // processes and brokers, and they hold on a loaded machine (no timing assertions).
    maxWorkers: 2,
    globalSetup: ['test/globalSetup.ts'],
  },
});
