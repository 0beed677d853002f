import type { DisplayLine } from '../../hal/display.js';
import type { LightColour, Tone } from '../../hal/indicators.js';
import type { PromptId } from '../../hal/speaker.js';
import type { Alarm, GateState, Outcome } from '../../src/core/gate.js';
import type { Log } from '../../src/core/log.js';
import type { GateMode } from '../../src/core/settings.js';
import type { Tap } from '../../src/core/tap.js';
import type { Scenario, ScenarioEvent, ScenarioPassenger } from '../scenario.js';
import { applyScenarioEvent, presentationOf, scenarioLane, type Presented, type ScenarioLane } from '../scenarioLane.js';
import { LaneError } from './laneError.js';

/** How often simulated time catches up with real time, firing the gate's timers (open timeout, walkers). */
const TICK_MS = 20;
/** As in `citygate sim`: a person walks through this long after the barrier opened for them. */
const WALK_MS = 1_000;
/** The next person of a group follows this long after the one before. */
const NEXT_PERSON_MS = 700;
/** The second touch of a double tap comes this long after the first. */
const DOUBLE_TAP_MS = 1_000;

/** One presentation's outcome as the page lists it. */
export interface LaneTap {
  /** Order in this lane, from 1. */
  n: number;
  passenger: string;
  outcome: Outcome['type'];
  /** The journaled tap; for a repeat, the earlier tap that stands. */
  tap: Tap | null;
  /** `accepted`, the refusal's reason, `repeat` or `unjournaled`. */
  verdict: string;
  /** What the scenario expects of this presentation, if it says. */
  expect: string | null;
  /** The display once the presentation was handled. */
  screen: DisplayLine[];
  /** Why the journal refused the row (unjournaled only). */
  error: string | null;
}

export interface LaneAlarm {
  /** Simulated wall time, ISO-8601. */
  at: string;
  type: Alarm['type'];
  detail: string | null;
}

/** The gate as the passenger and the developer see it at one moment. */
export interface LaneView {
  /** Simulated wall time in ms; it runs with real time between scenario jumps. */
  clockMs: number;
  gate: { id: string; site: string; mode: GateMode; state: GateState; emergency: boolean; clockTrusted: boolean; timezone: string };
  passenger: {
    display: DisplayLine[];
    large: boolean;
    light: LightColour;
    barrier: 'open' | 'closed';
    tone: Tone | null;
    said: PromptId | null;
    passages: number;
  };
  autoWalk: boolean;
}

export type LanePassenger = ScenarioPassenger & { name: string };

function verdictOf(outcome: Outcome): string {
  if (outcome.type !== 'tap') return outcome.type;
  return outcome.tap.result === 'accepted' ? 'accepted' : outcome.tap.reason;
}

/**
 * One scenario's gate running in real time: the page presents the
 * scenario's passengers (or any text) whenever it likes, people walk through
 * when the barrier opens for them, and every outcome is kept for the page.
 */
export class LiveLane {
  readonly taps: LaneTap[] = [];
  readonly alarms: LaneAlarm[] = [];
  autoWalk = true;
  private readonly ticker: NodeJS.Timeout;
  private readonly presented = new Map<string, Presented>();
  private readonly startMono: number;
  private current: { name: string; expects: (string | null)[]; walk: boolean | number } | undefined;
  private passages = 0;
  private said: PromptId | null = null;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly scenario: Scenario,
    readonly journalPath: string,
    private readonly lane: ScenarioLane,
    private readonly onTap: (entry: LaneTap, outcome: Outcome) => void,
  ) {
    const { gate, board } = lane;
    this.startMono = board.clock.monotonic();
    gate.onOutcome((outcome) => this.record(outcome));
    gate.onAlarm((alarm) => this.alarms.push({ at: new Date(board.clock.now()).toISOString(), type: alarm.type, detail: 'error' in alarm ? alarm.error : null }));
    this.ticker = setInterval(() => board.clock.advance(0), TICK_MS);
  }

  static async open(scenario: Scenario, options: { journalPath: string; log: Log; onTap: (entry: LaneTap, outcome: Outcome) => void }): Promise<LiveLane> {
    let self: LiveLane | undefined;
    const lane = await scenarioLane(scenario, { journalPath: options.journalPath, log: options.log, onSay: (prompt) => self?.heard(prompt) });
    self = new LiveLane(scenario, options.journalPath, lane, options.onTap);
    try {
      await lane.gate.start();
    } catch (error) {
      await self.close();
      throw error;
    }
    return self;
  }

  /** Present what a passenger of the scenario presents, as `citygate sim` would at this moment. */
  async present(passenger: LanePassenger): Promise<LaneTap[]> {
    const nowSec = Math.floor(this.lane.board.clock.now() / 1000);
    const what = this.presentationOf(passenger, nowSec);
    this.presented.set(passenger.name, what);
    const first = this.taps.length;
    this.current = { name: passenger.name, expects: [passenger.expect ?? null, passenger.double ? 'repeat' : null], walk: passenger.walk };
    try {
      if (what.kind === 'sneak') this.sneakThrough(passenger.walk === true ? 1 : Number(passenger.walk));
      else await this.hand(what);
      if (passenger.double && what.kind !== 'sneak') {
        this.lane.board.clock.advance(DOUBLE_TAP_MS);
        await this.hand(what);
      }
    } finally {
      this.current = undefined;
    }
    return this.taps.slice(first);
  }

  /** Apply a scenario event as the gate's own inputs would; returns what the gate refused of it. */
  happen(event: ScenarioEvent): Promise<string | undefined> {
    return applyScenarioEvent(this.lane, event);
  }

  /** Someone walks through the lane now (the passage sensor sees a person). */
  walkThrough(): void {
    this.pass();
  }

  /** Move simulated time to `seconds` after the scenario's start (never back), firing what falls due. */
  advanceTo(seconds: number): void {
    this.lane.board.clock.advanceTo(this.startMono + seconds * 1000);
  }

  /** Seconds of simulated time since the scenario's start. */
  elapsed(): number {
    return (this.lane.board.clock.monotonic() - this.startMono) / 1000;
  }

  view(): LaneView {
    const { board, gate, settings } = this.lane;
    return {
      clockMs: board.clock.now(),
      gate: { id: settings.gateId, site: settings.site!, mode: gate.mode(), state: gate.currentState(), emergency: gate.emergency(), clockTrusted: board.clock.trusted(), timezone: settings.timezone },
      passenger: {
        display: [...board.display.lines],
        large: board.display.style.large === true,
        light: board.indicators.colour,
        barrier: board.barrier.state() === 'open' ? 'open' : 'closed',
        tone: board.indicators.tones.at(-1) ?? null,
        said: this.said,
        passages: this.passages,
      },
      autoWalk: this.autoWalk,
    };
  }

  /** The newest rows of the journal file, oldest first, and how many it holds. */
  journalRows(limit: number): { rows: Tap[]; count: number; backlog: number; deliveredSeq: number } {
    const { journal } = this.lane;
    const last = journal.lastTapSeq();
    return { rows: journal.taps(Math.max(0, last - limit), limit), count: last, backlog: journal.backlog(), deliveredSeq: journal.deliveredSeq() };
  }

  /** Stop the gate and close its journal; the file stays. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.ticker);
      try {
        await this.lane.gate.stop();
      } finally {
        this.lane.journal.close();
      }
    })();
    return this.closing;
  }

  private heard(prompt: PromptId): void {
    this.said = prompt;
  }

  private async hand(what: Exclude<Presented, { kind: 'sneak' }>): Promise<void> {
    const { board, gate } = this.lane;
    if (what.kind === 'card') board.reader.present(what.card, what.presentation);
    else if (what.kind === 'code') board.scanner.scan(what.text);
    else board.scanner.scanBytes(what.bytes);
    await gate.settled();
  }

  private record(outcome: Outcome): void {
    const current = this.current;
    const expect = current?.expects.shift() ?? null;
    const entry: LaneTap = {
      n: this.taps.length + 1,
      passenger: current?.name ?? '(lane)',
      outcome: outcome.type,
      tap: outcome.type === 'tap' ? outcome.tap : outcome.type === 'repeat' ? outcome.of : null,
      verdict: verdictOf(outcome),
      expect,
      screen: [...this.lane.board.display.lines],
      error: outcome.type === 'unjournaled' ? outcome.error : null,
    };
    this.taps.push(entry);
    this.onTap(entry, outcome);
    if (outcome.type === 'tap' && outcome.tap.result === 'accepted' && current && this.autoWalk) this.walkIn(current.walk, outcome.tap);
  }

  private pass(): void {
    this.passages++;
    this.lane.board.passage.pass();
  }

  /** People slip through the lane, one after the other, without presenting anything. */
  private sneakThrough(people: number): void {
    for (let k = 0; k < people; k++) this.lane.board.clock.setTimer(k * NEXT_PERSON_MS, () => this.pass());
  }

  /** After an accepted tap, as in `citygate sim`: `walk` people, or one per passage granted while the gate stays open. */
  private walkIn(walk: boolean | number, tap: Tap): void {
    if (walk === false) return;
    const most = walk === true ? (tap.product?.entries ?? 1) : walk;
    let walked = 0;
    const next = (delay: number): void => {
      if (walked >= most) return;
      this.lane.board.clock.setTimer(delay, () => {
        walked++;
        this.pass();
        if (walk !== true || this.lane.gate.currentState() === 'open') next(NEXT_PERSON_MS);
      });
    };
    next(WALK_MS);
  }

  private presentationOf(p: ScenarioPassenger, nowSec: number): Presented {
    if (p.again !== undefined && !this.presented.has(p.again)) throw new LaneError('not-presented', `this presents again what "${p.again}" presented: present "${p.again}" first`);
    const what = presentationOf(this.lane, p, nowSec, this.presented);
    if (what.kind === 'sneak' && !p.sneak) throw new LaneError('no-such-entry', 'the sim page cannot present this kind of passenger yet; `citygate sim --scenario` runs it');
    return what;
  }

}
