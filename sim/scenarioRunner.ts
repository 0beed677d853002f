import type { DisplayLine } from '../hal/display.js';
import type { PromptId } from '../hal/speaker.js';
import type { Alarm, Outcome } from '../src/core/gate.js';
import type { Log } from '../src/core/log.js';
import type { Tap } from '../src/core/tap.js';
import { crowdOf } from './crowd.js';
import type { BarrierAction } from './devices.js';
import { inTimeOrder, type Expectation, type Scenario, type ScenarioEvent, type ScenarioPassenger } from './scenario.js';
import { applyScenarioEvent, presentationOf, scenarioLane, type Presented } from './scenarioLane.js';

/** A person walks through this long after the barrier opened for them. */
const WALK_MS = 1_000;
/** The next person of a group follows this long after the one before. */
const NEXT_PERSON_MS = 700;
/** The second touch of a double tap comes this long after the first. */
const DOUBLE_TAP_MS = 1_000;

/** What happened in one entry's span: from its time until the next entry's. */
interface Span {
  /** Barrier commands in the span. */
  barrier: BarrierAction[];
  /** Alarms raised in the span, in order. */
  alarms: Alarm[];
  /** Voice prompts spoken in the span, in order. */
  said: PromptId[];
}

export interface PassengerResult extends Span {
  name: string;
  /** Seconds after the scenario start. */
  at: number;
  expect: Expectation | undefined;
  /** The outcome of each presentation: one, or two for a double tap. */
  outcomes: Outcome[];
  /** What the display showed once the (first) presentation was handled; empty for a sneak. */
  screen: DisplayLine[];
  /** Why the outcome differs from the passenger's expectations, if it does. */
  mismatch: string | undefined;
}

export interface EventResult extends Span {
  name: string;
  at: number;
  event: ScenarioEvent;
  /** Why the gate did not take the event, if it did not. */
  mismatch: string | undefined;
}

export interface ScenarioRun {
  passengers: PassengerResult[];
  events: EventResult[];
  alarms: Alarm[];
  barrier: BarrierAction[];
}

type Named<T> = T & { name: string; at: number };
export type TimelineEntry = Named<ScenarioPassenger> | Named<ScenarioEvent>;

/** Give every entry a name and a time: the file's entries first, then the crowd. */
export function timelineOf(scenario: Scenario): TimelineEntry[] {
  const explicit = inTimeOrder(scenario.passengers).map(({ entry, index, at }) => ({ ...entry, name: entry.name ?? `${'event' in entry ? 'e' : 'p'}${index + 1}`, at }));
  const last = explicit.at(-1)?.at;
  const crowdStart = last === undefined ? 0 : last + (scenario.crowd?.every ?? 1.5);
  return [...explicit, ...crowdOf(scenario, crowdStart).map((p) => ({ ...p, name: p.name!, at: p.at! }))];
}

function describe(outcome: Outcome | undefined): string {
  if (!outcome) return 'nothing';
  if (outcome.type === 'repeat') return 'repeat';
  if (outcome.type === 'unjournaled') return 'unjournaled';
  return outcome.tap.result === 'accepted' ? 'accepted' : outcome.tap.reason;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Every expectation of the passenger that the run did not meet, or undefined. */
function mismatchOf(p: ScenarioPassenger, outcomes: Outcome[], screen: DisplayLine[], span: Span): string | undefined {
  const problems: string[] = [];
  if (!p.sneak) {
    const got = describe(outcomes[0]);
    if (p.expect !== undefined && got !== p.expect) problems.push(`expected ${p.expect}, got ${got}`);
    if (p.double && describe(outcomes[1]) !== 'repeat') problems.push(`second touch of a double tap gave ${describe(outcomes[1])}, expected repeat`);
    const tap: Tap | undefined = outcomes[0]?.type === 'tap' ? outcomes[0].tap : undefined;
    if (p.expectFare !== undefined && tap?.fare !== p.expectFare) problems.push(`expected fare ${p.expectFare}, got ${tap ? tap.fare : 'no tap'}`);
    if (p.expectCategory !== undefined && tap?.category !== p.expectCategory) problems.push(`expected category ${p.expectCategory}, got ${tap ? tap.category : 'no tap'}`);
    if (p.expectPlace !== undefined && (!tap || !same(tap.place, p.expectPlace))) problems.push(`expected place ${JSON.stringify(p.expectPlace)}, got ${tap ? JSON.stringify(tap.place) : 'no tap'}`);
    for (const text of p.expectShown ?? []) {
      if (!screen.some((line) => line.zh.includes(text) || line.en.includes(text))) problems.push(`expected the screen to show ${JSON.stringify(text)}, it showed ${JSON.stringify(screen.map((l) => l.en))}`);
    }
  }
  const openings = span.barrier.filter((a) => a.action === 'open').length;
  if (p.expectOpenings !== undefined && openings !== p.expectOpenings) problems.push(`expected ${p.expectOpenings} barrier openings, got ${openings}`);
  const alarms = span.alarms.map((a) => a.type);
  if (p.expectAlarms !== undefined && !same(alarms, p.expectAlarms)) problems.push(`expected alarms ${JSON.stringify(p.expectAlarms)}, got ${JSON.stringify(alarms)}`);
  if (p.expectSaid !== undefined && !same(span.said, p.expectSaid)) problems.push(`expected the prompts ${JSON.stringify(p.expectSaid)}, got ${JSON.stringify(span.said)}`);
  return problems.length ? problems.join('; ') : undefined;
}

/**
 * Run a scenario on the simulated board against a real journal file. Each
 * passenger's presentation is handled to the end before time moves on; people
 * walk through when the barrier opens for them; events act on the gate at
 * their time.
 */
export async function runScenario(scenario: Scenario, options: { journalPath: string; log: Log; onOutcome?: (outcome: Outcome, passenger: string) => void }): Promise<ScenarioRun> {
  const said: { at: number; prompt: PromptId }[] = [];
  const lane = await scenarioLane(scenario, { journalPath: options.journalPath, log: options.log, onSay: (prompt) => said.push({ at: lane.board.clock.monotonic(), prompt }) });
  const { board, gate, journal, settings } = lane;

  const alarms: { at: number; alarm: Alarm }[] = [];
  gate.onAlarm((alarm) => alarms.push({ at: board.clock.monotonic(), alarm }));
  let current: { name: string; outcomes: Outcome[]; screens: DisplayLine[][]; walk: boolean | number } | undefined;
  gate.onOutcome((outcome) => {
    if (!current) return;
    current.outcomes.push(outcome);
    options.onOutcome?.(outcome, current.name);
    if (outcome.type === 'tap' && outcome.tap.result === 'accepted') walkThrough(current.walk, outcome.tap);
  });
  await gate.start();

  const startMono = board.clock.monotonic();
  const timeline = timelineOf(scenario);
  const presented = new Map<string, Presented>();
  const outcomes = new Map<string, { outcomes: Outcome[]; screen: DisplayLine[] }>();
  const eventProblems = new Map<string, string | undefined>();
  let stoppedAt = Number.POSITIVE_INFINITY;
  try {
    for (const entry of timeline) {
      board.clock.advanceTo(startMono + entry.at * 1000);
      if ('event' in entry) {
        eventProblems.set(entry.name, await applyScenarioEvent(lane, entry));
        continue;
      }
      const nowSec = Math.floor(board.clock.now() / 1000);
      const what = presentationOf(lane, entry, nowSec, presented);
      presented.set(entry.name, what);
      current = { name: entry.name, outcomes: [], screens: [], walk: entry.walk };
      if (what.kind === 'sneak') sneakThrough(entry.walk === true ? 1 : Number(entry.walk));
      else await present(what);
      if (entry.double) {
        board.clock.advance(DOUBLE_TAP_MS);
        await present(what);
      }
      outcomes.set(entry.name, { outcomes: current.outcomes, screen: current.screens[0] ?? [] });
    }
    board.clock.advance(settings.openTimeoutMs + 2 * WALK_MS);
    stoppedAt = board.clock.monotonic();
    await gate.stop();
  } finally {
    journal.close();
  }

  // Barrier commands and alarms belong to the entry whose time span they fall in; the gate's own stop belongs to nobody.
  const spanOf = (i: number): Span => {
    const from = startMono + timeline[i]!.at * 1000;
    const to = i + 1 < timeline.length ? startMono + timeline[i + 1]!.at * 1000 : stoppedAt;
    return {
      barrier: board.barrier.actions.filter((a) => a.at >= from && a.at < to),
      alarms: alarms.filter((a) => a.at >= from && a.at < to).map((a) => a.alarm),
      said: said.filter((s) => s.at >= from && s.at < to).map((s) => s.prompt),
    };
  };
  const passengers: PassengerResult[] = [];
  const events: EventResult[] = [];
  timeline.forEach((entry, i) => {
    const span = spanOf(i);
    if ('event' in entry) {
      const { name, at, ...event } = entry;
      events.push({ name, at, event: event as ScenarioEvent, ...span, mismatch: eventProblems.get(name) });
      return;
    }
    const got = outcomes.get(entry.name) ?? { outcomes: [], screen: [] };
    passengers.push({ name: entry.name, at: entry.at, expect: entry.expect, ...got, ...span, mismatch: mismatchOf(entry, got.outcomes, got.screen, span) });
  });
  return { passengers, events, alarms: alarms.map((a) => a.alarm), barrier: board.barrier.actions };

  async function present(what: Presented): Promise<void> {
    if (what.kind === 'card') board.reader.present(what.card, what.presentation);
    else if (what.kind === 'code') board.scanner.scan(what.text);
    else if (what.kind === 'binary') board.scanner.scanBytes(what.bytes);
    await gate.settled();
    current?.screens.push([...board.display.lines]);
  }

  /** People slip through the lane, one after the other, without presenting anything. */
  function sneakThrough(people: number): void {
    for (let k = 0; k < people; k++) board.clock.setTimer(k * NEXT_PERSON_MS, () => board.passage.pass());
  }

  /**
   * After an accepted tap: `walk` people, or with `walk: true` one person per
   * passage granted (they keep coming while the gate stays open for them,
   * up to the ticket's entries).
   */
  function walkThrough(walk: boolean | number, tap: Tap): void {
    if (walk === false) return;
    const most = walk === true ? (tap.product?.entries ?? 1) : walk;
    let walked = 0;
    const next = (delay: number): void => {
      if (walked >= most) return;
      board.clock.setTimer(delay, () => {
        walked++;
        board.passage.pass();
        if (walk !== true || gate.currentState() === 'open') next(NEXT_PERSON_MS);
      });
    };
    next(WALK_MS);
  }

}
