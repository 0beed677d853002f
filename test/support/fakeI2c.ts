import type { I2cBus, I2cBusOpener } from '../../hal/i2c/i2cBus.js';

export type I2cOp =
  | { op: 'i2cWrite'; address: number; bytes: number[] }
  | { op: 'writeI2cBlock'; address: number; command: number; bytes: number[] }
  | { op: 'writeByte'; address: number; command: number; byte: number }
  | { op: 'close' };

function noAnswer(address: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`EREMOTEIO, Remote I/O error (0x${address.toString(16)})`), { code: 'EREMOTEIO', errno: -121 });
}

/**
 * An i2c-bus promisified bus with the i2c-bus argument checks (length within
 * the buffer, SMBus blocks of at most 32 bytes): devices answer at the
 * addresses given; a register device (an RTC) keeps 256 registers written and
 * read from the command byte on. Every write is logged.
 */
export class FakeI2cBus implements I2cBus {
  readonly log: I2cOp[] = [];
  readonly registers = new Map<number, Uint8Array>();
  /** Writes fail with no answer from this many calls on (undefined: never). */
  failAfter: number | undefined;
  private calls = 0;

  constructor(readonly answering: readonly number[]) {
    for (const address of answering) this.registers.set(address, new Uint8Array(256));
  }

  async i2cWrite(address: number, length: number, buffer: Buffer) {
    this.check(address, length, buffer, Infinity);
    this.log.push({ op: 'i2cWrite', address, bytes: [...buffer.subarray(0, length)] });
    return { bytesWritten: length, buffer };
  }

  async writeI2cBlock(address: number, command: number, length: number, buffer: Buffer) {
    this.check(address, length, buffer, 32);
    this.log.push({ op: 'writeI2cBlock', address, command, bytes: [...buffer.subarray(0, length)] });
    this.registers.get(address)!.set(buffer.subarray(0, length), command);
    return { bytesWritten: length, buffer };
  }

  async readI2cBlock(address: number, command: number, length: number, buffer: Buffer) {
    this.check(address, length, buffer, 32);
    buffer.set(this.registers.get(address)!.subarray(command, command + length));
    return { bytesRead: length, buffer };
  }

  async readByte(address: number, command: number) {
    this.check(address, 1, Buffer.alloc(1), 1);
    return this.registers.get(address)![command]!;
  }

  async writeByte(address: number, command: number, byte: number) {
    this.check(address, 1, Buffer.alloc(1), 1);
    this.log.push({ op: 'writeByte', address, command, byte });
    this.registers.get(address)![command] = byte;
  }

  async close() {
    this.log.push({ op: 'close' });
  }

  readonly open: I2cBusOpener = async () => this;

  private check(address: number, length: number, buffer: Buffer, max: number): void {
    if (length > buffer.length || length > max) throw new RangeError(`length ${length} (buffer ${buffer.length}, max ${max})`);
    if (this.failAfter !== undefined && this.calls >= this.failAfter) throw noAnswer(address);
    this.calls++;
    if (!this.answering.includes(address)) throw noAnswer(address);
  }
}
