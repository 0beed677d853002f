// Independent codes in each gate mode: test/interop/gen_mode_codes.py (Python,
// written from DESIGN.md §2 and the mode rules, reusing gen_codes.py's own
// encoder, not this project's) writes a trust list, a gate configuration per
// mode and codes with category and product claims, each with the verdict the
// rules call for. Each mode runs as a scenario of `text` passengers on the
// simulated board; the gate's taps and barrier must follow the Python verdicts.
// Needs /usr/bin/python3 with python3-cbor2 and python3-cryptography (Debian).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWith } from '../src/app/settingsSchema.js';
import { silentLog } from '../src/core/log.js';
import { scenarioSchema } from '../sim/scenario.js';
import { runScenario, type ScenarioRun } from '../sim/scenarioRunner.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const python = '/usr/bin/python3';
const generator = join(root, 'test', 'interop', 'gen_mode_codes.py');
const INSTALL_HINT = 'needs /usr/bin/python3 with the Debian packages python3-cbor2 and python3-cryptography: apt-get install -y python3-cbor2 python3-cryptography';

interface Verdict {
  result: 'accepted' | 'refused';
  reason: string | string[];
  fare: number | null;
  category?: string;
  openings: number;
}
type Step = { name: string; at: number; text: string; expect: Verdict } | { name: string; at: number; event: string; [field: string]: unknown };
interface ModeCases {
  name: string;
  start: string;
  gate: { mode: string } & Record<string, unknown>;
  steps: Step[];
}

const dir = mkdtempSync(join(tmpdir(), 'citygate-mode-interop-'));
let generated: { trust: unknown; modes: ModeCases[] };
const runs = new Map<string, ScenarioRun>();

beforeAll(async () => {
  if (!existsSync(python)) throw new Error(`${python} not found; ${INSTALL_HINT}`);
  const gen = spawnSync(python, [generator, dir], { encoding: 'utf8', timeout: 60_000 });
  if (gen.status !== 0) throw new Error(`gen_mode_codes.py failed (${INSTALL_HINT}):\n${gen.stdout}${gen.stderr}`);
  generated = JSON.parse(readFileSync(join(dir, 'modes.json'), 'utf8')) as typeof generated;
  for (const mode of generated.modes) {
    // Codes are presented as scanned text; events go in as written.
    const passengers = mode.steps.map((step) => ('text' in step ? { name: step.name, at: step.at, text: step.text } : step));
    const document = { name: `independent codes: ${mode.name}`, start: mode.start, gate: mode.gate, trust: generated.trust, passengers };
    const scenario = parseWith(scenarioSchema, document, `modes.json ${mode.name}`);
    runs.set(mode.name, await runScenario(scenario, { journalPath: join(dir, `${mode.name}.db`), log: silentLog }));
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('independent codes presented in each gate mode', () => {
  it('covers every mode, each with codes admitted and refused', () => {
    expect(generated.modes.map((m) => m.gate.mode).sort()).toEqual(['access', 'bus', 'metro-entry', 'venue']);
    for (const mode of generated.modes) {
      const verdicts = mode.steps.flatMap((s) => ('text' in s ? [s.expect.result] : []));
      expect(verdicts, mode.name).toContain('accepted');
      expect(verdicts, mode.name).toContain('refused');
    }
  });

  it.each(['bus', 'metro', 'venue', 'access'])('%s: every verdict, fare, category and barrier opening follows the rules', (name) => {
    const mode = generated.modes.find((m) => m.name === name)!;
    const run = runs.get(name)!;
    const cases = mode.steps.filter((s): s is Extract<Step, { text: string }> => 'text' in s);
    expect(run.passengers.map((p) => p.name)).toEqual(cases.map((c) => c.name));
    const problems: string[] = [];
    for (const [i, c] of cases.entries()) {
      const p = run.passengers[i]!;
      const outcome = p.outcomes[0];
      if (p.outcomes.length !== 1 || outcome?.type !== 'tap') {
        problems.push(`${c.name}: expected one tap, got ${p.outcomes.map((o) => o.type).join(', ') || 'nothing'}`);
        continue;
      }
      const tap = outcome.tap;
      const e = c.expect;
      const reasons = Array.isArray(e.reason) ? e.reason : [e.reason];
      if (tap.result !== e.result || !reasons.includes(tap.reason)) problems.push(`${c.name}: ${tap.result} ${tap.reason}, expected ${e.result} ${reasons.join(' | ')}`);
      if (tap.fare !== e.fare) problems.push(`${c.name}: fare ${tap.fare}, expected ${e.fare}`);
      if (e.category !== undefined && tap.category !== e.category) problems.push(`${c.name}: category ${tap.category}, expected ${e.category}`);
      const openings = p.barrier.filter((a) => a.action === 'open').length;
      if (openings !== e.openings) problems.push(`${c.name}: ${openings} barrier openings, expected ${e.openings}`);
    }
    for (const event of run.events) if (event.mismatch) problems.push(`${event.name}: ${event.mismatch}`);
    expect(problems).toEqual([]);
  });
});
