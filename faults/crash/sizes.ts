import type { CrashLoopOptions } from './crashLoop.js';

/** The crash loop in CI (test/crashLoop.test.ts) and in `npm run faults`: kills shared out between gates killed in parallel. */
export const CI_CRASH_LOOP: CrashLoopOptions = { gates: 2, kills: 200, seed: 7 };
export const LONG_CRASH_LOOP: CrashLoopOptions = { gates: 3, kills: 1_000, seed: 11 };
