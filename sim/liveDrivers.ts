import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { Barrier, BarrierState } from '../hal/barrier.js';
import type { Clock } from '../hal/clock.js';
import type { CodeScanner, CodeScannerEvent } from '../hal/codeScanner.js';
import type { EmergencyContact } from '../hal/emergencyInput.js';
import type { PassageEvent, PassageSensor } from '../hal/passageSensor.js';
import type { Speaker } from '../hal/speaker.js';
import type { Driver, DriverContext } from '../src/app/boardBuilder.js';
import { SimDisplay, SimIndicators } from './devices.js';
import { SimEmergencyContact } from './simEmergencyContact.js';
import { SimSpeaker } from './simSpeaker.js';
import { laneControl } from './laneControl.js';
import { createSimClock, SimClockFaults, type SimRtcState } from './simClock.js';

/*
 * `sim` drivers for `citygate run`: the gate as a real service, with a
 * simulated lane. Codes arrive as text lines (stdin or a FIFO, as a serial
 * scan module would send them), a simulated passenger walks through each
 * opening, and the barrier's commands and voice prompts go to the log.
 */

class LiveBarrier implements Barrier {
  private current: BarrierState = 'closed';
  private readonly listeners: ((state: BarrierState) => void)[] = [];

  constructor(private readonly context: DriverContext) {}

  onChange(listener: (state: BarrierState) => void): void {
    this.listeners.push(listener);
  }

  async open(): Promise<void> {
    this.set('open');
  }

  async close(): Promise<void> {
    this.set('closed');
  }

  state(): BarrierState {
    return this.current;
  }

  private set(state: BarrierState): void {
    if (state === this.current) return;
    this.current = state;
    this.context.log.info({ barrier: state }, 'sim barrier');
    for (const listener of this.listeners) listener(state);
  }
}

/** A passenger walks through `walkMs` after the barrier opens, and again while it stays open. */
class WalkingPassenger implements PassageSensor {
  private timer: NodeJS.Timeout | undefined;
  private listener: ((event: PassageEvent) => void) | undefined;

  constructor(
    private readonly walkMs: number,
    barrier: LiveBarrier | undefined,
  ) {
    barrier?.onChange((state) => this.onBarrier(barrier, state));
  }

  async start(listener: (event: PassageEvent) => void): Promise<void> {
    this.listener = listener;
  }

  async stop(): Promise<void> {
    this.listener = undefined;
    clearTimeout(this.timer);
  }

  private onBarrier(barrier: LiveBarrier, state: BarrierState): void {
    clearTimeout(this.timer);
    if (state !== 'open') return;
    const walk = () => {
      this.listener?.({ type: 'passage' });
      if (barrier.state() === 'open') this.timer = setTimeout(walk, this.walkMs);
    };
    this.timer = setTimeout(walk, this.walkMs);
  }
}

/** Code text lines from stdin or a file/FIFO; the end of a FIFO's writer is not the end of the scanner. */
class LineScanner implements CodeScanner {
  private closeInput: (() => void) | undefined;

  constructor(
    private readonly input: string,
    private readonly control: (line: string) => boolean,
  ) {}

  async start(listener: (event: CodeScannerEvent) => void): Promise<void> {
    const open = () => {
      const stream = this.input === '-' ? process.stdin : createReadStream(this.input);
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        const text = line.trim();
        if (text !== '' && !this.control(text)) listener({ type: 'code', text });
      });
      stream.on('error', (error: Error) => listener({ type: 'health', healthy: false, detail: `sim scanner input ${this.input}: ${error.message}` }));
      lines.on('close', () => {
        if (this.input !== '-' && this.closeInput) setTimeout(open, 100);
      });
      this.closeInput = () => {
        this.closeInput = undefined;
        lines.close();
        if (stream !== process.stdin) stream.destroy();
      };
    };
    open();
    listener({ type: 'health', healthy: true, detail: `sim scanner reading ${this.input === '-' ? 'stdin' : this.input}` });
  }

  async stop(): Promise<void> {
    this.closeInput?.();
  }
}

const none = z.strictObject({});

/** Drivers of one simulated lane: the passenger watches the barrier of the same lane. */
export function createSimDrivers() {
  let barrier: LiveBarrier | undefined;
  let emergency: SimEmergencyContact | undefined;
  let clock: { faults: SimClockFaults; judge: () => Promise<void> } | undefined;
  const control = (context: DriverContext) => (line: string) => {
    const contact = emergency;
    const lane = clock;
    return laneControl(line, {
      log: context.log,
      emergency: contact && ((active) => contact.set(active)),
      clock: lane && {
        jump: (ms) => lane.faults.jump(ms),
        ntp: (on) => {
          lane.faults.setNtp(on);
          void lane.judge();
        },
        rtc: (state) => {
          lane.faults.setRtc(state);
          void lane.judge();
        },
      },
    });
  };
  return {
    scanners: {
      sim: {
        settings: z.strictObject({ input: z.string().min(1).default('-') }),
        create: async (settings: { input: string }, context: DriverContext) => new LineScanner(settings.input, control(context)),
      } satisfies Driver<CodeScanner>,
    },
    emergency: {
      sim: { settings: none, create: async () => (emergency = new SimEmergencyContact()) } satisfies Driver<EmergencyContact>,
    },
    speaker: {
      sim: {
        settings: none,
        create: async (_settings: object, context: DriverContext) => new SimSpeaker((prompt) => context.log.info({ prompt }, 'sim speaker')),
      } satisfies Driver<Speaker>,
    },
    barrier: {
      sim: {
        settings: none,
        create: async (_settings: object, context: DriverContext) => (barrier = new LiveBarrier(context)),
      } satisfies Driver<Barrier>,
    },
    passage: {
      sim: {
        settings: z.strictObject({ walkMs: z.number().int().min(10).max(60_000).default(800) }),
        create: async (settings: { walkMs: number }) => new WalkingPassenger(settings.walkMs, barrier),
      } satisfies Driver<PassageSensor>,
    },
    indicators: { sim: { settings: none, create: async () => new SimIndicators() } },
    display: { sim: { settings: none, create: async () => new SimDisplay() } },
    clock: {
      sim: {
        settings: z.strictObject({
          /** NTP synchronized at start. */
          trusted: z.boolean().default(true),
          rtc: z.enum(['ok', 'missing', 'reset']).default('missing'),
          checkIntervalMs: z.number().int().min(100).max(3_600_000).default(1000),
        }),
        create: async (settings: { trusted: boolean; rtc: SimRtcState; checkIntervalMs: number }, context: DriverContext) => {
          const faults = new SimClockFaults(settings.trusted, settings.rtc);
          const systemClock = await createSimClock(faults, settings.checkIntervalMs, (h) => context.health.report('clock', h.healthy, h.detail));
          clock = { faults, judge: () => systemClock.check() };
          return systemClock;
        },
      } satisfies Driver<Clock>,
    },
  };
}
