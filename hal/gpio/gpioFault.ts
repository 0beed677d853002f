/**
 * A GPIO problem put the way a field technician can act on it. Drivers reject
 * with this (or report its message as health) instead of a raw errno.
 */
export class GpioFault extends Error {
  override name = 'GpioFault';
}

/** What a failed export/open/read/write of one pin means on a Raspberry Pi. */
export function explainGpioError(error: unknown, pin: string): GpioFault {
  if (error instanceof GpioFault) return error;
  const err = error as NodeJS.ErrnoException;
  const path = typeof err.path === 'string' ? ` (${err.path})` : '';
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return new GpioFault(`${pin}: permission denied on sysfs GPIO${path}: the service user is not in the gpio group (usermod -aG gpio <user>, then restart the service)`);
    case 'EBUSY':
      return new GpioFault(`${pin}: pin is busy: a kernel driver or another program holds it (check dtoverlay/dtparam lines in /boot/firmware/config.txt, e.g. I2C uses GPIO2/3, and 'gpioinfo')`);
    case 'EINVAL':
      return new GpioFault(`${pin}: the kernel rejected this GPIO number${path}: wrong gpiochip base or pin not on this chip (check gpio.chipLabels)`);
    case 'ENOENT':
      return new GpioFault(`${pin}: no sysfs GPIO${path}: this kernel has no /sys/class/gpio (CONFIG_GPIO_SYSFS) or this is not the board's GPIO`);
    default:
      return new GpioFault(`${pin}: GPIO error: ${err.code ?? ''} ${err.message ?? String(error)}`.trim());
  }
}
