import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../../src/app/settingsSchema.js';
import type { Log } from '../../src/core/log.js';
import type { Tap } from '../../src/core/tap.js';
import type { Scenario } from '../scenario.js';
import { timelineOf } from '../scenarioRunner.js';
import { BUILT_IN_SCENARIO, loadScenario, SCENARIO_DIR, tapLine } from '../simCommand.js';
import { LaneError } from './laneError.js';
import { paletteOf, type Palette, type PaletteButton, type PaletteEvent } from './lanePalette.js';
import { LiveLane, type LaneAlarm, type LaneTap, type LaneView } from './liveLane.js';

/** How many of each list the page gets: the newest. */
const TAPS_SHOWN = 50;
const ALARMS_SHOWN = 10;
const JOURNAL_ROWS_SHOWN = 8;

export interface CatalogueEntry {
  index: number;
  file: string;
  name: string;
}

/** What changes only when another lane is loaded: the page's buttons. */
export interface LaneSetup {
  lane: number;
  scenario: CatalogueEntry & { description: string | null };
  scenarios: CatalogueEntry[];
  passengers: PaletteButton[];
  events: PaletteEvent[];
  journalPath: string;
}

export interface PlayProgress {
  scenario: string;
  done: number;
  of: number;
  mismatches: number;
  running: boolean;
  /** Why the play stopped early, if it did. */
  stopped: string | null;
}

/** What the page shows at one moment. */
export interface LaneState {
  lane: number;
  view: LaneView;
  taps: LaneTap[];
  alarms: LaneAlarm[];
  journal: { path: string; count: number; rows: Tap[] };
  /** `citygate sim` runs without a broker: every tap waits in the journal for a fleet link. */
  fleet: { link: 'none'; backlog: number; deliveredSeq: number };
  play: PlayProgress | null;
}

interface Playback {
  progress: PlayProgress;
  stop: () => void;
  finished: Promise<void>;
}

/**
 * The simulated lane behind the page: one scenario's gate at a time, each
 * with its own journal file in `dir` (a journal belongs to one gate). The
 * page's actions run one after another; a playing scenario has the lane to
 * itself until it ends or is stopped.
 */
export class LaneSession {
  private lane!: LiveLane;
  private laneId = 0;
  private palette!: Palette;
  private scenarioIndex = 0;
  private serial: Promise<unknown> = Promise.resolve();
  private playback: Playback | undefined;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly log: Log,
    private readonly catalogue: (CatalogueEntry & { scenario: Scenario })[],
    private readonly out: (line: string) => void,
  ) {}

  /** `scenarioFile` (default: the built-in rush hour) on the lane, listed first; the other built-in scenarios after it. */
  static async start(options: { dir: string; log: Log; scenarioFile: string | undefined; out: (line: string) => void }): Promise<LaneSession> {
    const files = readdirSync(SCENARIO_DIR)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => join(SCENARIO_DIR, name));
    const first = resolve(options.scenarioFile ?? BUILT_IN_SCENARIO);
    // The one to start with must load; another built-in that does not is left out, and said so.
    const scenarios = [{ file: first, scenario: loadScenario(first) }];
    for (const file of files.filter((f) => resolve(f) !== first)) {
      try {
        scenarios.push({ file, scenario: loadScenario(file) });
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        options.log.warn({ file, err: error.message }, 'sim ui: scenario left out');
      }
    }
    const catalogue = scenarios.map(({ file, scenario }, index) => ({ index, file, name: scenario.name, scenario }));
    const session = new LaneSession(options.dir, options.log, catalogue, options.out);
    await session.open(0);
    return session;
  }

  setup(): LaneSetup {
    const entry = this.catalogue[this.scenarioIndex]!;
    return {
      lane: this.laneId,
      scenario: { index: entry.index, file: entry.file, name: entry.name, description: entry.scenario.description ?? null },
      scenarios: this.catalogue.map(({ index, file, name }) => ({ index, file, name })),
      passengers: this.palette.passengers.map((p) => p.button),
      events: this.palette.events.map((e) => e.button),
      journalPath: this.lane.journalPath,
    };
  }

  state(): LaneState {
    const journal = this.lane.journalRows(JOURNAL_ROWS_SHOWN);
    return {
      lane: this.laneId,
      view: this.lane.view(),
      taps: this.lane.taps.slice(-TAPS_SHOWN).reverse(),
      alarms: this.lane.alarms.slice(-ALARMS_SHOWN).reverse(),
      journal: { path: this.lane.journalPath, count: journal.count, rows: journal.rows.reverse() },
      fleet: { link: 'none', backlog: journal.backlog, deliveredSeq: journal.deliveredSeq },
      play: this.playback ? { ...this.playback.progress } : null,
    };
  }

  /** Cheap to compute: changes whenever what the page shows changes, but for the running clock. */
  signature(): string {
    const { clockMs: _clock, ...view } = this.lane.view();
    return JSON.stringify([this.laneId, view, this.lane.taps.length, this.lane.alarms.length, this.playback?.progress]);
  }

  present(lane: number, index: number): Promise<LaneTap[]> {
    return this.act(lane, () => {
      const entry = this.palette.passengers[index];
      if (!entry) throw new LaneError('no-such-entry', `this lane has no passenger ${index}`);
      return this.lane.present(entry.passenger);
    });
  }

  /** Text as the scan module reads it off a phone: a code made elsewhere, or anything at all. */
  scan(lane: number, text: string): Promise<LaneTap[]> {
    return this.act(lane, () => this.lane.present({ name: 'scanned text', text, double: false, walk: true }));
  }

  happen(lane: number, index: number): Promise<string | undefined> {
    return this.act(lane, () => {
      const entry = this.palette.events[index];
      if (!entry) throw new LaneError('no-such-entry', `this lane has no event ${index}`);
      return this.lane.happen(entry.event);
    });
  }

  walkThrough(lane: number): Promise<void> {
    return this.act(lane, async () => this.lane.walkThrough());
  }

  setAutoWalk(lane: number, on: boolean): Promise<void> {
    return this.act(lane, async () => {
      this.lane.autoWalk = on;
    });
  }

  /** Another scenario's gate, fresh, with a journal of its own. */
  async load(index: number): Promise<LaneSetup> {
    if (this.closed) throw new LaneError('closed', 'the sim is stopping');
    if (!this.catalogue[index]) throw new LaneError('no-such-scenario', `there is no scenario ${index}`);
    await this.stopPlaying();
    await this.exclusive(() => this.open(index));
    return this.setup();
  }

  /**
   * A scenario from its start on a fresh gate: its passengers and
   * events (and its crowd) in time order, `paceMs` of real time between two
   * (never more than the scenario's own gap), the simulated clock jumping to
   * each one's time as `citygate sim` does.
   */
  async play(index: number, paceMs: number): Promise<LaneSetup> {
    if (this.closed) throw new LaneError('closed', 'the sim is stopping');
    if (!this.catalogue[index]) throw new LaneError('no-such-scenario', `there is no scenario ${index}`);
    await this.stopPlaying();
    await this.exclusive(() => this.open(index));
    const lane = this.lane;
    const timeline = timelineOf(lane.scenario);
    const progress: PlayProgress = { scenario: lane.scenario.name, done: 0, of: timeline.length, mismatches: 0, running: true, stopped: null };
    let stopped = false;
    let pausing: { timer: NodeJS.Timeout; done: () => void } | undefined;
    const stop = () => {
      stopped = true;
      if (pausing) clearTimeout(pausing.timer);
      pausing?.done();
    };
    const run = async () => {
      for (const entry of timeline) {
        const gapMs = Math.max(0, (entry.at - lane.elapsed()) * 1000);
        const pause = Math.min(paceMs, gapMs);
        if (pause > 0 && !stopped) await new Promise<void>((done) => (pausing = { timer: setTimeout(done, pause), done }));
        pausing = undefined;
        if (stopped) break;
        await this.exclusive(async () => {
          lane.advanceTo(entry.at);
          if ('event' in entry) {
            if (await lane.happen(entry)) progress.mismatches++;
          } else {
            const taps = await lane.present(entry);
            progress.mismatches += taps.filter((t) => t.expect !== null && t.expect !== t.verdict).length;
          }
        });
        progress.done++;
      }
    };
    const finished = run()
      .catch((error: unknown) => {
        progress.stopped = error instanceof LaneError ? error.message : 'the lane failed; see the log';
        if (!(error instanceof LaneError)) this.log.error({ err: (error as Error).message }, 'sim ui: scenario play failed');
      })
      .finally(() => {
        progress.running = false;
        if (stopped && progress.stopped === null && progress.done < progress.of) progress.stopped = 'stopped';
      });
    this.playback = { progress, stop, finished };
    return this.setup();
  }

  async stopPlaying(): Promise<void> {
    const playback = this.playback;
    if (!playback) return;
    playback.stop();
    await playback.finished;
  }

  /** Stop playing, let the action under way end, stop the gate and close its journal. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopPlaying();
    await this.exclusive(() => this.lane.close());
  }

  /** A page action on the lane it was showing, unless that lane is gone or a scenario plays on it. */
  private act<T>(lane: number, action: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new LaneError('closed', 'the sim is stopping'));
    if (lane !== this.laneId) return Promise.reject(new LaneError('lane-changed', 'this page showed a lane that was replaced (another scenario was loaded or played); it shows the new one now'));
    if (this.playback?.progress.running) return Promise.reject(new LaneError('playing', 'a scenario is playing on this lane: stop it first'));
    return this.exclusive(action);
  }

  private exclusive<T>(action: () => Promise<T>): Promise<T> {
    const result = this.serial.then(action);
    this.serial = result.catch(() => undefined);
    return result;
  }

  /** The new lane first, then the old one closed: a lane that cannot be built leaves the one before in place. */
  private async open(index: number): Promise<void> {
    const entry = this.catalogue[index]!;
    const laneId = this.laneId + 1;
    const journalPath = join(this.dir, `${laneId}-${basename(entry.file, '.json')}.db`);
    const lane = await LiveLane.open(entry.scenario, {
      journalPath,
      log: this.log,
      onTap: (tap, outcome) => {
        const line = tapLine(outcome, tap.passenger);
        if (line) this.out(line);
      },
    });
    const previous = this.lane as LiveLane | undefined;
    this.lane = lane;
    this.laneId = laneId;
    this.scenarioIndex = index;
    this.palette = paletteOf(entry.scenario);
    this.playback = undefined;
    await previous?.close();
  }
}
