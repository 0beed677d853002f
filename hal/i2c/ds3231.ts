import type { RealTimeClock, RtcReading } from '../systemClock.js';
import { explainI2cError, openI2cBus, type I2cBus, type I2cBusOpener } from './i2cBus.js';

const TIME_REGISTER = 0x00;
const CONTROL_REGISTER = 0x0e;
const STATUS_REGISTER = 0x0f;
/** Oscillator Stop Flag: the clock stopped (battery flat or first power-up) since it was last set. */
const OSF = 0x80;
/** Enable-oscillator bar: when set the clock stops while on battery. */
const EOSC = 0x80;
const CENTURY = 0x80;

/**
 * The DS3231 keeps UTC here (as `hwclock --utc`, Debian's default). `forceAccess`
 * lets the gate read it while the kernel's rtc-ds1307 driver (dtoverlay=i2c-rtc,
 * ds3231) holds the address for setting the system time at boot.
 */
export interface Ds3231Settings {
  bus: number;
  address: number;
  forceAccess: boolean;
  /** A reading before this year is an RTC that lost its time (it resets to 2000). */
  minYear: number;
}

function bcd(byte: number, mask: number): number | undefined {
  const value = byte & mask;
  const tens = value >> 4;
  const units = value & 0x0f;
  return units > 9 || tens > 9 ? undefined : tens * 10 + units;
}

const toBcd = (n: number): number => ((Math.floor(n / 10) << 4) | n % 10) & 0xff;

/**
 * Registers 0x00-0x06 to epoch milliseconds, or why they are not a time:
 * seconds, minutes, hours (24 h, or 12 h with the PM bit), weekday (unused),
 * date, month with the century bit, year 00-99 (2000-2099, 2100+ with the bit).
 */
export function decodeDs3231Time(regs: Uint8Array): { ms: number } | { reason: string } {
  const second = bcd(regs[0]!, 0x7f);
  const minute = bcd(regs[1]!, 0x7f);
  const twelveHour = (regs[2]! & 0x40) !== 0;
  const rawHour = bcd(regs[2]!, twelveHour ? 0x1f : 0x3f);
  const date = bcd(regs[4]!, 0x3f);
  const month = bcd(regs[5]!, 0x1f);
  const year = bcd(regs[6]!, 0xff);
  const fields = [second, minute, rawHour, date, month, year];
  if (fields.some((f) => f === undefined)) return { reason: `registers are not BCD (${hex(regs)})` };
  let hour = rawHour!;
  if (twelveHour) {
    if (hour < 1 || hour > 12) return { reason: `hour ${hour} out of range in 12 h mode` };
    hour = (hour % 12) + ((regs[2]! & 0x20) !== 0 ? 12 : 0);
  }
  const fullYear = 2000 + year! + ((regs[5]! & CENTURY) !== 0 ? 100 : 0);
  const ms = Date.UTC(fullYear, month! - 1, date!, hour, minute!, second!);
  const back = new Date(ms);
  const valid = second! < 60 && minute! < 60 && hour < 24 && back.getUTCMonth() === month! - 1 && back.getUTCDate() === date! && month! >= 1;
  return valid ? { ms } : { reason: `not a date: ${fullYear}-${month}-${date} ${hour}:${minute}:${second} (${hex(regs)})` };
}

/** Epoch milliseconds (2000-2199, whole seconds) to registers 0x00-0x06, 24 h mode. */
export function encodeDs3231Time(ms: number): Uint8Array {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (year < 2000 || year > 2199) throw new RangeError(`the DS3231 holds 2000-2199, not ${year}`);
  return Uint8Array.of(
    toBcd(d.getUTCSeconds()),
    toBcd(d.getUTCMinutes()),
    toBcd(d.getUTCHours()),
    d.getUTCDay() + 1,
    toBcd(d.getUTCDate()),
    toBcd(d.getUTCMonth() + 1) | (year >= 2100 ? CENTURY : 0),
    toBcd(year % 100),
  );
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export class Ds3231 implements RealTimeClock {
  readonly description: string;

  constructor(
    private readonly bus: I2cBus,
    private readonly settings: Ds3231Settings,
  ) {
    this.description = `RTC DS3231 at 0x${settings.address.toString(16)} on i2c-${settings.bus}`;
  }

  async read(): Promise<RtcReading> {
    const { address, minYear } = this.settings;
    try {
      const status = await this.bus.readByte(address, STATUS_REGISTER);
      if ((status & OSF) !== 0) return { ok: false, reason: `${this.description}: oscillator stopped since it was last set (flat battery or first power-up)` };
      const regs = Buffer.alloc(7);
      await this.bus.readI2cBlock(address, TIME_REGISTER, 7, regs);
      const time = decodeDs3231Time(regs);
      if ('reason' in time) return { ok: false, reason: `${this.description}: ${time.reason}` };
      if (new Date(time.ms).getUTCFullYear() < minYear) return { ok: false, reason: `${this.description}: reads ${new Date(time.ms).toISOString()}, before ${minYear}: it lost its time` };
      return { ok: true, ms: time.ms };
    } catch (error) {
      return { ok: false, reason: explainI2cError(error, this.description, this.settings.bus).message };
    }
  }

  /** Set the time (whole seconds), keep the oscillator running on battery, then clear OSF. */
  async write(ms: number): Promise<void> {
    const { address } = this.settings;
    try {
      await this.bus.writeI2cBlock(address, TIME_REGISTER, 7, Buffer.from(encodeDs3231Time(ms)));
      const control = await this.bus.readByte(address, CONTROL_REGISTER);
      if ((control & EOSC) !== 0) await this.bus.writeByte(address, CONTROL_REGISTER, control & ~EOSC);
      const status = await this.bus.readByte(address, STATUS_REGISTER);
      await this.bus.writeByte(address, STATUS_REGISTER, status & ~OSF);
    } catch (error) {
      throw explainI2cError(error, this.description, this.settings.bus);
    }
  }

  async close(): Promise<void> {
    await this.bus.close().catch(() => undefined);
  }
}

/** Rejects with an I2cFault when the bus cannot be opened; a missing chip shows at the first read. */
export async function openDs3231(settings: Ds3231Settings, openBus: I2cBusOpener = openI2cBus): Promise<Ds3231> {
  const description = `RTC DS3231 at 0x${settings.address.toString(16)} on i2c-${settings.bus}`;
  try {
    return new Ds3231(await openBus(settings.bus, { forceAccess: settings.forceAccess }), settings);
  } catch (error) {
    throw explainI2cError(error, description, settings.bus);
  }
}
