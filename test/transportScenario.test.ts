import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../src/core/journal.js';
import { silentLog } from '../src/core/log.js';
import type { Tap } from '../src/core/tap.js';
import { scenarioSchema } from '../sim/scenario.js';
import { runScenario, type ScenarioRun } from '../sim/scenarioRunner.js';
import { loadScenario, SCENARIO_DIR } from '../sim/simCommand.js';

/*
 * sim/scenarios/transport.json: a bus taking national transport QR codes,
 * run on the simulated board with a real journal. The runner checks each
 * passenger's expectations (verdict, fare, category, openings, screen); this
 * test checks them against the journal, and the scenario format's checks of
 * transport passengers.
 */

const dir = mkdtempSync(join(tmpdir(), 'citygate-transport-scenario-'));
const scenario = loadScenario(join(SCENARIO_DIR, 'transport.json'));
let run: ScenarioRun;
let rows: Tap[];

beforeAll(async () => {
  const journalPath = join(dir, 'journal.db');
  run = await runScenario(scenario, { journalPath, log: silentLog });
  const journal = Journal.open(journalPath, scenario.gate.gateId, scenario.gate.site!);
  rows = journal.taps();
  journal.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('transport QR codes on a bus (sim/scenarios/transport.json)', () => {
  it('treats every passenger as the scenario expects', () => {
    expect(run.passengers.map((p) => [p.name, p.mismatch])).toEqual(run.passengers.map((p) => [p.name, undefined]));
    expect(run.passengers).toHaveLength(15);
  });

  it('journals each tap with the account as subject under the issuer transport, kind code', () => {
    expect(rows).toHaveLength(15);
    const accepted = rows.filter((r) => r.result === 'accepted');
    expect(accepted.map((r) => [r.subject, r.category, r.fare])).toEqual([
      ['3104770011223344556F', 'adult', 200],
      ['0200290000000000012F', 'student', 100],
      ['3104770055500000001F', 'senior', 200],
      ['3104770055500000001F', 'senior', 0],
    ]);
    for (const row of rows) expect(row.kind).toBe('code');
    for (const row of accepted) expect(row).toMatchObject({ issuer: 'transport', place: { operator: 'cq-bus', route: '261', stop: 'chaotianmen' } });
    // Refusals after the issuer vouched for the account name it; those before do not.
    const byReason = (reason: string) => rows.find((r) => r.reason === reason)!;
    expect(byReason('over-limit')).toMatchObject({ issuer: 'transport', subject: '3104770066600000001F', fare: null });
    expect(byReason('deny-listed')).toMatchObject({ issuer: 'transport', subject: '3104770012345678901F' });
    expect(byReason('replayed')).toMatchObject({ issuer: 'transport', subject: '3104770011223344556F' });
    expect(byReason('malformed')).toMatchObject({ issuer: null, subject: null });
    expect(byReason('unknown-key')).toMatchObject({ issuer: null, subject: null });
  });

  it('refuses transport passengers with the wrong fault, deny-list entries that are no account number, and a deny list without transport codes', () => {
    const base = { name: 'x', gate: { id: 'G1', site: 'S1', mode: 'venue' }, issuers: [] };
    const problems = (input: unknown) => {
      const parsed = scenarioSchema.safeParse(input);
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ ...base, passengers: [{ transport: { account: '3104770011223344556F' }, fault: 'cloned' }] })).toEqual([
      'passengers.0.fault: not a fault of a transport code (expired, not-yet-valid, forged, unknown-issuer, unknown-key, stale, tampered, garbage)',
    ]);
    expect(problems({ ...base, passengers: [{ transport: { account: '31047700' } }] })).toEqual(['passengers.0.transport.account: an account number: 10 bytes as 20 hex digits']);
    expect(problems({ ...base, denyList: { transport: ['lost'] }, passengers: [{ transport: { account: '3104770011223344556F' } }] })).toEqual(['denyList.transport.0: a transport account number: 20 hex digits']);
    expect(problems({ ...base, issuers: [{ id: 'cq.yukuaima' }], denyList: { transport: ['3104770011223344556F'] }, passengers: [] })).toEqual([
      'denyList.transport: deny-lists transport accounts, but no passenger presents a transport code',
    ]);
  });
});
