import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GpioFault } from './gpioFault.js';

/**
 * Labels of the gpiochip that carries the 40-pin header: Pi 1-3/Zero, Pi 4,
 * Pi 5 (RP1). Since kernel 6.6 their sysfs numbers start at the chip's base
 * (512, or 571 on a Pi 5), no longer at 0, so a BCM pin number is never a
 * sysfs number by itself.
 */
export const HEADER_CHIP_LABELS = ['pinctrl-bcm2711', 'pinctrl-bcm2835', 'pinctrl-rp1'] as const;

export interface GpioChip {
  /** Directory name under class/gpio, e.g. gpiochip512. */
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

/**
 * Find the header's chip in `<sysfsRoot>/class/gpio/gpiochip*` by label (the
 * first label of `labels` that a chip carries wins). Rejects with a GpioFault
 * naming what was found when no chip matches.
 */
export async function findGpioChip(sysfsRoot: string, labels: readonly string[]): Promise<GpioChip> {
  const dir = join(sysfsRoot, 'class', 'gpio');
  let entries: string[];
  try {
    entries = (await readdir(dir)).filter((name) => name.startsWith('gpiochip'));
  } catch (error) {
    throw new GpioFault(`no sysfs GPIO at ${dir} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}): this kernel has no CONFIG_GPIO_SYSFS or this is not a Raspberry Pi`);
  }
  const chips: GpioChip[] = [];
  for (const name of entries) {
    const chip = await readChip(join(dir, name), name);
    if (chip) chips.push(chip);
  }
  for (const label of labels) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  const seen = chips.map((c) => `${c.name}=${c.label}`).join(', ') || 'none';
  throw new GpioFault(`no gpiochip labelled ${labels.join(' or ')} in ${dir} (found: ${seen}); set gpio.chipLabels to the header chip's label`);
}

async function readChip(path: string, name: string): Promise<GpioChip | undefined> {
  try {
    const [label, base, ngpio] = await Promise.all(['label', 'base', 'ngpio'].map((f) => readFile(join(path, f), 'utf8')));
    const chip = { name, label: label!.trim(), base: Number(base!.trim()), ngpio: Number(ngpio!.trim()) };
    return Number.isSafeInteger(chip.base) && chip.base >= 0 && Number.isSafeInteger(chip.ngpio) && chip.ngpio > 0 ? chip : undefined;
  } catch {
    return undefined;
  }
}
