import type { PromisifiedBus } from 'i2c-bus';

/** The calls of i2c-bus's promisified bus the drivers use: the seam tests replace. */
export type I2cBus = Pick<PromisifiedBus, 'i2cWrite' | 'writeI2cBlock' | 'readI2cBlock' | 'readByte' | 'writeByte' | 'close'>;

export type I2cBusOpener = (busNumber: number, options: { forceAccess: boolean }) => Promise<I2cBus>;

/** An I2C problem put the way a field technician can act on it. */
export class I2cFault extends Error {
  override name = 'I2cFault';
}

/** `device` names the chip and where it should be, e.g. "display SSD1306 at 0x3c on i2c-1". */
export function explainI2cError(error: unknown, device: string, busNumber: number): I2cFault {
  if (error instanceof I2cFault) return error;
  const err = error as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return new I2cFault(`${device}: no /dev/i2c-${busNumber}: enable I2C (dtparam=i2c_arm=on in /boot/firmware/config.txt, or raspi-config) and reboot`);
    case 'EACCES':
    case 'EPERM':
      return new I2cFault(`${device}: permission denied on /dev/i2c-${busNumber}: the service user is not in the i2c group (usermod -aG i2c <user>, then restart the service)`);
    case 'EBUSY':
      return new I2cFault(`${device}: address claimed by a kernel driver (a dtoverlay such as i2c-rtc): remove the overlay or set forceAccess`);
    case 'EREMOTEIO':
    case 'ENXIO':
    case 'EIO':
    case 'ETIMEDOUT':
      return new I2cFault(`${device}: no answer (${err.code}): check the wiring (SDA GPIO2 pin 3, SCL GPIO3 pin 5, 3.3 V, GND) and the address with 'i2cdetect -y ${busNumber}'`);
    default:
      return new I2cFault(`${device}: I2C error: ${err.code ?? ''} ${err.message ?? String(error)}`.trim());
  }
}

/** Open /dev/i2c-N through i2c-bus, loaded only here, when an I2C driver is used. */
export const openI2cBus: I2cBusOpener = async (busNumber, options) => {
  const i2c = await import('i2c-bus').catch((error: unknown) => {
    throw new I2cFault(`the i2c-bus module (native) does not load: ${(error as Error).message}; run 'npm rebuild i2c-bus' on the board`);
  });
  return i2c.openPromisified(busNumber, { forceAccess: options.forceAccess });
};
