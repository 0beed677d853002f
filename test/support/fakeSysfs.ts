import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A /sys look-alike holding only the label, base and ngpio of each class/gpio/gpiochipN, in a temp dir. */
export class FakeSysfs {
  readonly root = mkdtempSync(join(tmpdir(), 'citygate-sysfs-'));

  constructor(chips: { base: number; label: string; ngpio: number }[]) {
    const gpio = join(this.root, 'class', 'gpio');
    mkdirSync(gpio, { recursive: true });
    for (const chip of chips) {
      const dir = join(gpio, `gpiochip${chip.base}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'label'), `${chip.label}\n`);
      writeFileSync(join(dir, 'base'), `${chip.base}\n`);
      writeFileSync(join(dir, 'ngpio'), `${chip.ngpio}\n`);
    }
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** What `ls /sys/class/gpio` shows on a Pi 4 and a Pi 5 under kernel 6.6. */
export const PI4_CHIPS = [
  { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 },
  { base: 570, label: 'raspberrypi-exp-gpio', ngpio: 8 },
];
export const PI5_CHIPS = [
  { base: 512, label: 'gpio-brcmstb@107d508500', ngpio: 32 },
  { base: 544, label: 'gpio-brcmstb@107d517c00', ngpio: 6 },
  { base: 571, label: 'pinctrl-rp1', ngpio: 54 },
];
