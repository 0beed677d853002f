import { findGpioChip, type GpioChip } from './chipBase.js';
import { explainGpioError, GpioFault } from './gpioFault.js';
import { openOnoffLine, type GpioLine, type Level, type LineOpener } from './gpioLine.js';

/** Where to find the header's gpiochip; see HEADER_CHIP_LABELS for the labels to pass by default. */
export interface GpioChipSettings {
  chipLabels: readonly string[];
  /** `/sys` on the board; a temp dir in tests. */
  sysfsRoot: string;
}

/** An output pin by BCM number; `activeLow` when the relay/transistor input switches on at 0 V. */
export interface OutputPinSettings {
  bcm: number;
  activeLow: boolean;
}

/** An input pin by BCM number; `activeLow` when the sensor pulls the pin to 0 V when it fires. */
export interface InputPinSettings {
  bcm: number;
  activeLow: boolean;
  debounceMs: number;
}

export interface OutputLine {
  set(active: boolean): Promise<void>;
  /** Back to inactive, then unexported. Never rejects: the process is leaving the pin anyway. */
  release(): Promise<void>;
}

export interface InputLine {
  /**
   * Read the current state and then watch it: `onChange` gets each real change
   * of state (repeats of the same level are dropped), `onError` a read failure.
   */
  start(onChange: (active: boolean) => void, onError: (fault: GpioFault) => void): Promise<boolean>;
  release(): Promise<void>;
}

/** The header's pins, numbered by BCM, on the chip found by label. */
export class GpioPort {
  constructor(
    readonly chip: GpioChip,
    private readonly openLine: LineOpener,
  ) {}

  async output(name: string, pin: OutputPinSettings): Promise<OutputLine> {
    const label = this.describe(name, pin.bcm);
    const line = await this.open(label, pin.bcm, pin.activeLow ? 'high' : 'low');
    const level = (active: boolean): Level => (active !== pin.activeLow ? 1 : 0);
    return {
      set: async (active) => {
        try {
          await line.write(level(active));
        } catch (error) {
          throw explainGpioError(error, label);
        }
      },
      release: async () => {
        await line.write(level(false)).catch(() => undefined);
        unexport(line);
      },
    };
  }

  async input(name: string, pin: InputPinSettings): Promise<InputLine> {
    const label = this.describe(name, pin.bcm);
    const line = await this.open(label, pin.bcm, 'in', pin.debounceMs);
    const isActive = (level: Level): boolean => (level === 1) !== pin.activeLow;
    return {
      start: async (onChange, onError) => {
        let last: boolean;
        try {
          last = isActive(await line.read());
        } catch (error) {
          throw explainGpioError(error, label);
        }
        line.watch((error, level) => {
          if (error) return onError(explainGpioError(error, label));
          const active = isActive(level);
          if (active === last) return;
          last = active;
          onChange(active);
        });
        return last;
      },
      release: async () => unexport(line),
    };
  }

  private describe(name: string, bcm: number): string {
    return `${name} (BCM${bcm}, sysfs ${this.chip.base + bcm} on ${this.chip.name})`;
  }

  private async open(label: string, bcm: number, direction: 'high' | 'low' | 'in', debounceMs = 0): Promise<GpioLine> {
    if (!Number.isInteger(bcm) || bcm < 0 || bcm >= this.chip.ngpio) {
      throw new GpioFault(`${label}: BCM${bcm} is not a pin of ${this.chip.label} (0..${this.chip.ngpio - 1})`);
    }
    const sysfs = this.chip.base + bcm;
    try {
      return await this.openLine(direction === 'in' ? { sysfs, direction, debounceMs } : { sysfs, direction });
    } catch (error) {
      throw explainGpioError(error, label);
    }
  }
}

function unexport(line: GpioLine): void {
  try {
    line.unexport();
  } catch {
    // Nothing to do for a pin we are giving up: the next export resets it.
  }
}

/** Find the header's chip and return its pins; rejects with a GpioFault a technician can act on. */
export async function openGpioPort(settings: GpioChipSettings, openLine: LineOpener = openOnoffLine): Promise<GpioPort> {
  return new GpioPort(await findGpioChip(settings.sysfsRoot, settings.chipLabels), openLine);
}
