import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../src/core/journal.js';
import { silentLog } from '../src/core/log.js';
import type { Tap } from '../src/core/tap.js';
import { runScenario, type ScenarioRun } from '../sim/scenarioRunner.js';
import { bankCardsOf } from '../sim/scenarioBankCards.js';
import { BUILT_IN_SCENARIO, loadScenario, tapLine } from '../sim/simCommand.js';

const dir = mkdtempSync(join(tmpdir(), 'citygate-scenario-'));
const journalPath = join(dir, 'journal.db');
const scenario = loadScenario(BUILT_IN_SCENARIO);
let run: ScenarioRun;
let rows: Tap[];
/** Every tap as `citygate sim` prints it. */
const lines: string[] = [];

beforeAll(async () => {
  run = await runScenario(scenario, { journalPath, log: silentLog, onOutcome: (outcome, passenger) => lines.push(tapLine(outcome, passenger) ?? '') });
  const journal = Journal.open(journalPath, scenario.gate.gateId, scenario.gate.site!);
  rows = journal.taps();
  journal.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('built-in rush hour on the simulated board', () => {
  it('has at least 200 passengers, each with an expectation', () => {
    const presenting = run.passengers.filter((p) => p.name !== 'fare dodger');
    expect(presenting.length).toBeGreaterThanOrEqual(200);
    expect(presenting.every((p) => p.expect !== undefined)).toBe(true);
  });

  it('journals every tap passenger by passenger, as expected, with gapless seq', () => {
    let seq = 0;
    for (const p of run.passengers) {
      const taps = p.outcomes.filter((o) => o.type === 'tap').map((o) => o.tap);
      if (p.expect === undefined) {
        expect(taps, p.name).toEqual([]);
        continue;
      }
      expect(taps, p.name).toHaveLength(1);
      const tap = taps[0]!;
      seq += 1;
      const row = rows[seq - 1]!;
      expect(row, p.name).toEqual(tap);
      expect(row.seq, p.name).toBe(seq);
      expect(row.id, p.name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.gate).toBe(scenario.gate.gateId);
      if (p.expect === 'accepted') {
        expect(row, p.name).toMatchObject({ result: 'accepted', reason: 'ok' });
        expect(row.fare, p.name).toBe(scenario.gate.fares!.byCategory[row.category as 'senior'] ?? scenario.gate.fares!.default);
      } else {
        expect(row, p.name).toMatchObject({ result: 'refused', reason: p.expect, fare: null });
      }
      expect(p.mismatch, p.name).toBeUndefined();
    }
    expect(rows).toHaveLength(seq);
  });

  it('opens the barrier once per accepted passenger and closes it after they walk through', () => {
    for (const p of run.passengers) {
      const accepted = p.outcomes.some((o) => o.type === 'tap' && o.tap.result === 'accepted');
      const actions = p.barrier.map((a) => a.action);
      if (accepted) {
        expect(actions, p.name).toEqual(['open', 'close']);
        const [open, close] = p.barrier;
        // The passenger walks through one second after the barrier opened for them.
        expect(close!.at - open!.at, p.name).toBeGreaterThanOrEqual(1_000);
        expect(close!.at - open!.at, p.name).toBeLessThan(scenario.gate.openTimeoutMs);
      } else {
        expect(actions, p.name).toEqual([]);
      }
    }
  });

  it('answers a double tap with one tap and one repeat', () => {
    const doubles = run.passengers.filter((p) => p.outcomes.length === 2);
    expect(doubles.length).toBeGreaterThan(3);
    for (const p of doubles) {
      expect(p.outcomes.map((o) => o.type), p.name).toEqual(['tap', 'repeat']);
      expect(p.outcomes[1]!.type === 'repeat' && p.outcomes[1]!.of.seq).toBe(p.outcomes[0]!.type === 'tap' && p.outcomes[0]!.tap.seq);
    }
  });

  it('covers the trouble a rush hour brings', () => {
    const reasons = new Set(rows.map((r) => r.reason));
    for (const reason of ['ok', 'expired', 'bad-signature', 'card-auth-failed', 'card-removed', 'deny-listed', 'replayed', 'stale', 'malformed', 'card-not-supported', 'unknown-issuer', 'unknown-key', 'certificate-revoked']) {
      expect(reasons, reason).toContain(reason);
    }
    expect(run.alarms.map((a) => a.type)).toEqual(['tailgate']);
  });
});

describe('bank cards in the rush hour', () => {
  const pans = [...new Set(bankCardsOf(scenario).map((c) => c.spec.pan))];

  it('has QuickPass riders, RSA and SM2, and every way a bank card goes wrong', () => {
    const bank = run.passengers.filter((p) => scenario.passengers.some((e) => !('event' in e) && e.name === p.name && e.bankCard));
    expect(bank.length).toBeGreaterThanOrEqual(8);
    const accepted = rows.filter((r) => r.kind === 'emv' && r.result === 'accepted');
    expect(new Set(accepted.map((r) => r.emv!.oda))).toEqual(new Set(['rsa', 'sm2']));
    const reasons = new Set(bank.map((p) => p.outcomes[0]?.type === 'tap' && p.outcomes[0].tap.reason));
    for (const reason of ['ok', 'card-auth-failed', 'bad-signature', 'unknown-key', 'expired', 'card-removed', 'certificate-revoked', 'deny-listed', 'card-not-supported']) {
      expect(reasons, reason).toContain(reason);
    }
  });

  it('prints every tap without a bank card\'s clear PAN: kind emv, a token and the masked PAN instead', () => {
    expect(pans.length).toBeGreaterThanOrEqual(8);
    const printed = lines.filter((l) => l !== '');
    expect(printed).toHaveLength(rows.length);
    for (const line of printed) for (const pan of pans) expect(line).not.toContain(pan);
    const bank = printed.map((l) => JSON.parse(l) as Tap & { passenger: string }).filter((t) => t.kind === 'emv' && t.result === 'accepted');
    expect(bank.length).toBeGreaterThanOrEqual(2);
    for (const tap of bank) {
      expect(tap.issuer, tap.passenger).toBe('emv');
      expect(tap.subject, tap.passenger).toMatch(/^[0-9a-f]{32}$/);
      expect(tap.emv!.pan, tap.passenger).toMatch(/^\d{6}\*+\d{4}$/);
      expect(pans.some((pan) => pan.startsWith(tap.emv!.pan.slice(0, 6)) && pan.endsWith(tap.emv!.pan.slice(-4))), tap.passenger).toBe(true);
    }
  });
});
