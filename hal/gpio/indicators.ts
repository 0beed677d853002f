import type { TimerHandle } from '../clock.js';
import type { Indicators, LightColour, Tone } from '../indicators.js';
import type { GpioContext } from './gpioContext.js';
import type { OutputLine, OutputPinSettings } from './gpioPort.js';

type Colour = Exclude<LightColour, 'off'>;
const COLOURS: readonly Colour[] = ['green', 'red', 'amber', 'white'];

/**
 * One LED (or lamp of a tower light) per colour; colours without a pin are
 * allowed and simply show nothing. The buzzer is an active buzzer (it has its
 * own oscillator): the pin switches it on and off, sysfs cannot make tones.
 */
export interface GpioIndicatorSettings {
  lights: Partial<Record<Colour, OutputPinSettings>>;
  buzzer?: OutputPinSettings;
  /** How long the alarm pattern sounds before it stops by itself. */
  alarmMs: number;
}

/** On/off durations in ms, starting with "on". */
const PATTERNS: Record<Exclude<Tone, 'alarm'>, readonly number[]> = {
  accept: [120],
  refuse: [120, 100, 120],
  attention: [600],
};
const ALARM_STEP: readonly number[] = [250, 250];

export function tonePattern(tone: Tone, alarmMs: number): readonly number[] {
  if (tone !== 'alarm') return PATTERNS[tone];
  const cycle = ALARM_STEP[0]! + ALARM_STEP[1]!;
  const cycles = Math.max(1, Math.floor(alarmMs / cycle));
  return Array.from({ length: cycles * 2 - 1 }, (_, i) => ALARM_STEP[i % 2]!);
}

export class GpioIndicators implements Indicators {
  private step: TimerHandle | undefined;
  /** Which tone is current: a step of an older one that was already under way stops there. */
  private generation = 0;

  constructor(
    private readonly lights: ReadonlyMap<Colour, OutputLine>,
    private readonly buzzer: OutputLine | undefined,
    private readonly alarmMs: number,
    private readonly context: GpioContext,
  ) {}

  /** Every other colour goes off first, so two lamps are never lit together. */
  async light(colour: LightColour): Promise<void> {
    for (const [c, line] of this.lights) if (c !== colour) await line.set(false);
    await this.lights.get(colour as Colour)?.set(true);
  }

  /** A new tone cuts the one sounding. Resolves once the buzzer has started. */
  async tone(tone: Tone): Promise<void> {
    const buzzer = this.buzzer;
    if (!buzzer) return;
    this.step?.cancel();
    const generation = ++this.generation;
    const pattern = tonePattern(tone, this.alarmMs);
    const run = (index: number): void => {
      if (generation !== this.generation || index >= pattern.length) return;
      this.step = this.context.clock.setTimer(pattern[index]!, () => {
        buzzer.set(index % 2 === 1).then(() => run(index + 1), this.context.onFault);
      });
    };
    await buzzer.set(true);
    run(0);
  }

  async release(): Promise<void> {
    this.generation++;
    this.step?.cancel();
    for (const line of this.lights.values()) await line.release();
    await this.buzzer?.release();
  }
}

export async function createGpioIndicators(settings: GpioIndicatorSettings, context: GpioContext): Promise<GpioIndicators> {
  const opened: OutputLine[] = [];
  try {
    const lights = new Map<Colour, OutputLine>();
    for (const colour of COLOURS) {
      const pin = settings.lights[colour];
      if (!pin) continue;
      const line = await context.port.output(`light.${colour}`, pin);
      opened.push(line);
      lights.set(colour, line);
    }
    const buzzer = settings.buzzer ? await context.port.output('buzzer', settings.buzzer) : undefined;
    return new GpioIndicators(lights, buzzer, settings.alarmMs, context);
  } catch (error) {
    for (const line of opened) await line.release();
    throw error;
  }
}
