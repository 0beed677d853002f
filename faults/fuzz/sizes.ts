/** The fuzz run in CI (test/fuzz.test.ts) and the long run (npm run faults): inputs in all, and the fixed seed. */
export const CI_FUZZ = { totalInputs: 100_000, seed: 72_027 } as const;
export const LONG_FUZZ = { totalInputs: 1_000_000, seed: 20_270_115 } as const;
