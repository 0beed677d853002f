import type { Barrier, BarrierState } from '../barrier.js';
import type { TimerHandle } from '../clock.js';
import type { GpioContext } from './gpioContext.js';
import type { OutputLine, OutputPinSettings } from './gpioPort.js';

/**
 * `level`: the open relay is held while the barrier is open (a motorised flap
 * or boom controller's "open" dry contact); with a close relay too, that one is
 * held while closed, and the two are never active together.
 * `pulse`: a turnstile board that takes one pulse on its "open" input per
 * opening and locks again by itself; a close relay, if given, is pulsed on
 * close() (the board's "cancel" input).
 */
export type GpioBarrierSettings =
  | { mode: 'level'; open: OutputPinSettings; close?: OutputPinSettings }
  | { mode: 'pulse'; open: OutputPinSettings; close?: OutputPinSettings; pulseMs: number };

export class GpioBarrier implements Barrier {
  private current: BarrierState = 'closed';
  private pulses = new Set<TimerHandle>();

  constructor(
    private readonly settings: GpioBarrierSettings,
    private readonly openLine: OutputLine,
    private readonly closeLine: OutputLine | undefined,
    private readonly context: GpioContext,
  ) {}

  state(): BarrierState {
    return this.current;
  }

  async open(): Promise<void> {
    this.current = 'open';
    if (this.settings.mode === 'pulse') return this.pulse(this.openLine, this.settings.pulseMs);
    await this.closeLine?.set(false);
    await this.openLine.set(true);
  }

  async close(): Promise<void> {
    this.current = 'closed';
    if (this.settings.mode === 'pulse') {
      if (this.closeLine) await this.pulse(this.closeLine, this.settings.pulseMs);
      return;
    }
    await this.openLine.set(false);
    await this.closeLine?.set(true);
  }

  /** Outputs to rest (open relay released), pins unexported. */
  async release(): Promise<void> {
    for (const timer of this.pulses) timer.cancel();
    this.pulses.clear();
    await this.openLine.release();
    await this.closeLine?.release();
  }

  /** Resolves once the pulse has started; the end of the pulse is the clock's business. */
  private async pulse(line: OutputLine, ms: number): Promise<void> {
    await line.set(true);
    const timer = this.context.clock.setTimer(ms, () => {
      this.pulses.delete(timer);
      line.set(false).catch(this.context.onFault);
    });
    this.pulses.add(timer);
  }
}

/**
 * The barrier's relays, exported at their inactive level: a level-mode barrier
 * with a close relay is then driven closed, so the lane starts shut.
 */
export async function createGpioBarrier(settings: GpioBarrierSettings, context: GpioContext): Promise<GpioBarrier> {
  const openLine = await context.port.output('barrier.open', settings.open);
  let closeLine: OutputLine | undefined;
  try {
    closeLine = settings.close ? await context.port.output('barrier.close', settings.close) : undefined;
  } catch (error) {
    await openLine.release();
    throw error;
  }
  const barrier = new GpioBarrier(settings, openLine, closeLine, context);
  if (settings.mode === 'level' && closeLine) await barrier.close();
  return barrier;
}
