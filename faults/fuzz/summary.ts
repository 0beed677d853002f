import type { FuzzFigures } from './figures.js';

const SHOWN = 5;

/** The figures as a person reads them: one line per target, then what broke, with inputs to replay. */
export function fuzzSummary(figures: FuzzFigures): string {
  const lines = [`fuzz: ${figures.inputs} inputs, seed ${figures.seed}, ${(figures.durationMs / 1000).toFixed(1)} s`];
  for (const t of figures.targets) {
    const top = Object.entries(t.reasons)
      .slice(0, 3)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    lines.push(
      `  ${t.name.padEnd(20)} ${String(t.inputs).padStart(8)} in, ${String(t.accepted).padStart(7)} accepted, ${String(t.refused).padStart(7)} refused (${t.distinctReasons} reasons: ${top}), ` +
        `crashes ${t.crashes}, violations ${t.violations}, forgeries ${t.forgeries}, slow ${t.slow}, max ${t.maxMs} ms`,
    );
  }
  const total = (field: 'crashes' | 'violations' | 'forgeries' | 'slow') => figures.targets.reduce((sum, t) => sum + t[field], 0);
  lines.push(`  in all: crashes ${total('crashes')}, violations ${total('violations')}, forgeries ${total('forgeries')}, slow ${total('slow')}`);
  for (const c of figures.crashes.slice(0, SHOWN)) lines.push(`  CRASH ${c.target} ${c.input}\n    ${c.error.split('\n').slice(0, 4).join('\n    ')}`);
  for (const v of figures.violations.slice(0, SHOWN)) lines.push(`  VIOLATION ${v.target} ${v.input}: ${v.problem}`);
  for (const f of figures.forgeries.slice(0, SHOWN)) lines.push(`  FORGERY ${f.target} ${f.input}: ${f.detail}`);
  for (const s of figures.slow.slice(0, SHOWN)) lines.push(`  SLOW ${s.target} ${s.ms} ms ${s.input.slice(0, 200)}`);
  return lines.join('\n');
}
