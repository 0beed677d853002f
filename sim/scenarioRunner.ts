import { TrustStore } from '../src/core/credentials/trustList.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import type { Alarm, Outcome } from '../src/core/gate.js';
import type { Log } from '../src/core/log.js';
import { assembleGate } from '../src/app/assemble.js';
import { createSimBoard } from './board.js';
import { crowdOf } from './crowd.js';
import type { BarrierAction, CardPresentation } from './devices.js';
import { TestIssuer, trustListOf } from './issuer.js';
import type { Expectation, Scenario, ScenarioPassenger } from './scenario.js';
import type { ApduResponder } from './virtualCard.js';
import { Wallets } from './wallets.js';

/** A person walks through this long after the barrier opened for them. */
const WALK_MS = 1_000;
/** The second touch of a double tap comes this long after the first. */
const DOUBLE_TAP_MS = 1_000;
const DEFAULT_GAP_SEC = 1.5;

export interface PassengerResult {
  name: string;
  /** Seconds after the scenario start. */
  at: number;
  expect: Expectation | undefined;
  /** The outcome of each presentation: one, or two for a double tap. */
  outcomes: Outcome[];
  /** Barrier commands from this passenger's presentation until the next passenger's. */
  barrier: BarrierAction[];
  /** Why the outcome differs from `expect`, if it does. */
  mismatch: string | undefined;
}

export interface ScenarioRun {
  passengers: PassengerResult[];
  alarms: Alarm[];
  barrier: BarrierAction[];
}

type Presented = { kind: 'card'; card: ApduResponder; presentation: CardPresentation } | { kind: 'code'; text: string } | { kind: 'sneak' };

/** Give every passenger a name and a time: explicit ones first, then the crowd. */
export function passengersOf(scenario: Scenario): (ScenarioPassenger & { name: string; at: number })[] {
  let at = -DEFAULT_GAP_SEC;
  const explicit = scenario.passengers.map((p, i) => {
    at = p.at ?? at + DEFAULT_GAP_SEC;
    return { ...p, name: p.name ?? `p${i + 1}`, at };
  });
  const crowdStart = explicit.length === 0 ? 0 : at + (scenario.crowd?.every ?? DEFAULT_GAP_SEC);
  return [...explicit, ...crowdOf(scenario, crowdStart).map((p) => ({ ...p, name: p.name!, at: p.at! }))].sort((a, b) => a.at - b.at);
}

function describe(outcome: Outcome | undefined): string {
  if (!outcome) return 'nothing';
  if (outcome.type === 'repeat') return 'repeat';
  if (outcome.type === 'unjournaled') return 'unjournaled';
  return outcome.tap.result === 'accepted' ? 'accepted' : outcome.tap.reason;
}

function mismatchOf(p: { expect?: Expectation | undefined; double: boolean; sneak?: true | undefined }, outcomes: Outcome[]): string | undefined {
  if (p.sneak) return undefined;
  const got = describe(outcomes[0]);
  if (p.expect !== undefined && got !== p.expect) return `expected ${p.expect}, got ${got}`;
  if (p.double && describe(outcomes[1]) !== 'repeat') return `second touch of a double tap gave ${describe(outcomes[1])}, expected repeat`;
  return undefined;
}

/**
 * Run a scenario on the simulated board against a real journal file. Each
 * passenger's presentation is handled to the end before time moves on; people
 * walk through when the barrier opens for them (one per passage granted).
 */
export async function runScenario(scenario: Scenario, options: { journalPath: string; log: Log; onOutcome?: (outcome: Outcome, passenger: string) => void }): Promise<ScenarioRun> {
  const startWall = Date.parse(scenario.start);
  const startSec = Math.floor(startWall / 1000);
  const board = createSimBoard(startWall);
  const issuers = scenario.issuers.map((i) => new TestIssuer(i.id, i.alg));
  const wallets = new Wallets(issuers, startSec);
  const trust = TrustStore.fromDocument(trustListOf(issuers));
  const settings = scenario.gate;
  const { gate, journal } = assembleGate({ board, settings: { ...settings, site: settings.site! }, trust, denyList: MemoryDenyList.fromDocument(scenario.denyList), journalPath: options.journalPath, log: options.log });

  const alarms: Alarm[] = [];
  gate.onAlarm((alarm) => alarms.push(alarm));
  let current: { name: string; outcomes: Outcome[]; walk: boolean } | undefined;
  gate.onOutcome((outcome) => {
    if (!current) return;
    current.outcomes.push(outcome);
    options.onOutcome?.(outcome, current.name);
    if (outcome.type === 'tap' && outcome.tap.result === 'accepted' && current.walk) {
      const passages = outcome.tap.product?.entries ?? 1;
      for (let k = 0; k < passages; k++) board.clock.setTimer(WALK_MS + k * 700, () => board.passage.pass());
    }
  });
  await gate.start();

  const startMono = board.clock.monotonic();
  const passengers = passengersOf(scenario);
  const presented = new Map<string, Presented>();
  const outcomes: Outcome[][] = [];
  let stoppedAt = Number.POSITIVE_INFINITY;
  try {
    for (const p of passengers) {
      board.clock.advanceTo(startMono + p.at * 1000);
      const nowSec = Math.floor(board.clock.now() / 1000);
      const what = presentationOf(p, nowSec, wallets, presented);
      presented.set(p.name, what);
      current = { name: p.name, outcomes: [], walk: p.walk };
      await present(what);
      if (p.double) {
        board.clock.advance(DOUBLE_TAP_MS);
        await present(what);
      }
      outcomes.push(current.outcomes);
    }
    board.clock.advance(settings.openTimeoutMs + 2 * WALK_MS);
    stoppedAt = board.clock.monotonic();
    await gate.stop();
  } finally {
    journal.close();
  }

  // Barrier commands belong to the passenger whose time slot they fall in; the gate's own stop belongs to nobody.
  const results = passengers.map((p, i): PassengerResult => {
    const from = startMono + p.at * 1000;
    const to = i + 1 < passengers.length ? startMono + passengers[i + 1]!.at * 1000 : stoppedAt;
    return {
      name: p.name,
      at: p.at,
      expect: p.expect,
      outcomes: outcomes[i]!,
      barrier: board.barrier.actions.filter((a) => a.at >= from && a.at < to),
      mismatch: mismatchOf(p, outcomes[i]!),
    };
  });
  return { passengers: results, alarms, barrier: board.barrier.actions };

  async function present(what: Presented): Promise<void> {
    if (what.kind === 'card') board.reader.present(what.card, what.presentation);
    else if (what.kind === 'code') board.scanner.scan(what.text);
    else board.passage.pass();
    await gate.settled();
  }
}

function presentationOf(p: ScenarioPassenger, nowSec: number, wallets: Wallets, presented: Map<string, Presented>): Presented {
  if (p.card) return { kind: 'card', ...wallets.card(p.card, p.fault, nowSec) };
  if (p.code) return { kind: 'code', text: wallets.code(p.code, p.fault, nowSec) };
  if (p.text !== undefined) return { kind: 'code', text: p.text };
  if (p.again !== undefined) {
    const earlier = presented.get(p.again);
    if (!earlier) throw new Error(`scenario: passenger "again": ${p.again} names no earlier passenger`);
    return earlier;
  }
  return { kind: 'sneak' };
}
