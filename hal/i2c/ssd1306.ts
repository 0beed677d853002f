import type { I2cBus } from './i2cBus.js';
import { PAGES, SCREEN_WIDTH } from './framebuffer.js';

/**
 * How bytes reach the panel. `i2c`: one plain I2C write per page (a control
 * byte and 128 data bytes), what the Pi's controller does. `smbus`: I2C block
 * writes of at most 32 bytes, for adapters limited to SMBus transfers.
 */
export type I2cTransfer = 'i2c' | 'smbus';

export interface Ssd1306Options {
  address: number;
  transfer: I2cTransfer;
  /** 0 for an SSD1306; 2 for an SH1106 (132 columns, 128 shown), which takes the same page writes. */
  columnOffset: number;
  /** Rotate 180 degrees, for a panel mounted upside down. */
  flip: boolean;
}

const COMMAND = 0x00;
const DATA = 0x40;
const SMBUS_BLOCK = 32;
const DISPLAY_ON = 0xaf;

/**
 * Power-on settings for a 128x64 panel on its internal charge pump, page
 * addressing (so that each page is written on its own and only changed pages
 * are sent), display left off until the first frame is in.
 */
export function initSequence(flip: boolean): number[] {
  return [
    0xae, // display off
    0xd5, 0x80, // clock divide ratio / oscillator
    0xa8, 0x3f, // multiplex 64
    0xd3, 0x00, // display offset 0
    0x40, // start line 0
    0x8d, 0x14, // charge pump on
    0x20, 0x02, // page addressing mode
    flip ? 0xa0 : 0xa1, // segment remap
    flip ? 0xc0 : 0xc8, // COM scan direction
    0xda, 0x12, // COM pins: alternative, for 64 rows
    0x81, 0xcf, // contrast
    0xd9, 0xf1, // pre-charge
    0xdb, 0x40, // VCOMH deselect level
    0xa4, // show RAM
    0xa6, // not inverted
    0x2e, // no scrolling
  ];
}

/** The panel's side of the wire: commands, and pages of the frame it does not already hold. */
export class Ssd1306Panel {
  /** What the panel's RAM holds, as far as we know; undefined before init and after any error. */
  private shown: Uint8Array | undefined;

  constructor(
    private readonly bus: I2cBus,
    private readonly options: Ssd1306Options,
  ) {}

  /** Initialise, clear, then switch on: the panel never shows the garbage RAM holds at power-on. */
  async init(): Promise<void> {
    this.shown = undefined;
    await this.command(initSequence(this.options.flip));
    await this.draw(new Uint8Array(SCREEN_WIDTH * PAGES));
    await this.command([DISPLAY_ON]);
  }

  async draw(frame: Uint8Array): Promise<void> {
    const shown = this.shown;
    this.shown = undefined;
    const next = shown ?? new Uint8Array(frame.length);
    for (let p = 0; p < PAGES; p++) {
      const page = frame.subarray(p * SCREEN_WIDTH, (p + 1) * SCREEN_WIDTH);
      if (shown && equal(page, shown.subarray(p * SCREEN_WIDTH, (p + 1) * SCREEN_WIDTH))) continue;
      const column = this.options.columnOffset;
      await this.command([0xb0 | p, column & 0x0f, 0x10 | (column >> 4)]);
      await this.data(page);
      next.set(page, p * SCREEN_WIDTH);
    }
    this.shown = next;
  }

  async off(): Promise<void> {
    this.shown = undefined;
    await this.command([0xae]);
  }

  private async command(bytes: number[]): Promise<void> {
    const { address, transfer } = this.options;
    if (transfer === 'smbus') await this.bus.writeI2cBlock(address, COMMAND, bytes.length, Buffer.from(bytes));
    else await this.bus.i2cWrite(address, bytes.length + 1, Buffer.from([COMMAND, ...bytes]));
  }

  private async data(bytes: Uint8Array): Promise<void> {
    const { address, transfer } = this.options;
    if (transfer === 'i2c') {
      await this.bus.i2cWrite(address, bytes.length + 1, Buffer.concat([Buffer.of(DATA), bytes]));
      return;
    }
    for (let at = 0; at < bytes.length; at += SMBUS_BLOCK) {
      const chunk = Buffer.from(bytes.subarray(at, at + SMBUS_BLOCK));
      await this.bus.writeI2cBlock(address, DATA, chunk.length, chunk);
    }
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
