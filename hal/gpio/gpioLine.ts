import { GpioFault } from './gpioFault.js';

/** A raw pin level as sysfs reads and writes it (active_low is always left at 0). */
export type Level = 0 | 1;

/**
 * The part of onoff's `Gpio` the drivers use. It is the seam tests replace:
 * everything above it (polarity, debouncing by value, chip base) is ours.
 */
export interface GpioLine {
  read(): Promise<Level>;
  write(level: Level): Promise<void>;
  watch(callback: (error: Error | null | undefined, level: Level) => void): void;
  unexport(): void;
}

export type LineRequest =
  | { sysfs: number; direction: 'high' | 'low' }
  | { sysfs: number; direction: 'in'; debounceMs: number };

export type LineOpener = (request: LineRequest) => Promise<GpioLine>;

/**
 * Export a pin through onoff (loaded only here, when a GPIO driver is used).
 * Outputs are exported as 'high' or 'low' so that the pin comes up at its
 * inactive level in one write: with 'out' the kernel drives it low first, which
 * closes an active-low relay for an instant. active_low is reset to 0 because
 * another program may have left it set, which would invert what we read.
 * Inputs watch both edges: onoff's debounce reports the level once it has been
 * stable for debounceMs, and the drivers keep only real changes of level.
 */
export async function openOnoffLine(request: LineRequest): Promise<GpioLine> {
  const { Gpio } = await import('onoff').catch((error: unknown) => {
    throw new GpioFault(`the onoff module or its native part (epoll) does not load: ${(error as Error).message}; run 'npm rebuild epoll' on the board`);
  });
  if (request.direction === 'in') return new Gpio(request.sysfs, 'in', 'both', { activeLow: false, debounceTimeout: request.debounceMs });
  return new Gpio(request.sysfs, request.direction, 'none', { activeLow: false });
}
