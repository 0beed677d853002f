/** One figure: `measure` does one iteration and returns its timed part in microseconds. */
export interface BenchCase {
  name: string;
  measure(): number | Promise<number>;
}

export interface RunPlan {
  warmup: number;
  n: number;
  /** Iterations of one case before the next case takes a turn. */
  chunk: number;
}

/**
 * Warm every case up, then measure them interleaved in chunks, rotating the
 * order each round, so that a slow patch of the disk or a GC-heavy phase
 * falls on all figures alike rather than on whichever ran then.
 */
export async function runInterleaved(cases: readonly BenchCase[], plan: RunPlan): Promise<Map<string, number[]>> {
  for (const c of cases) for (let i = 0; i < plan.warmup; i++) await c.measure();
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; [...samples.values()].some((s) => s.length < plan.n); round++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(round + k) % cases.length]!;
      const into = samples.get(c.name)!;
      const todo = Math.min(plan.chunk, plan.n - into.length);
      for (let i = 0; i < todo; i++) into.push(await c.measure());
    }
  }
  return samples;
}
