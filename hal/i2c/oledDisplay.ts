import type { Clock, TimerHandle } from '../clock.js';
import type { Display, DisplayLine, DisplayStyle } from '../display.js';
import { Framebuffer } from './framebuffer.js';
import { GATE_FONT } from './glyphFont.js';
import { explainI2cError, openI2cBus, type I2cBus, type I2cBusOpener, type I2cFault } from './i2cBus.js';
import { layoutPages, renderPage, type TextRow } from './screenLayout.js';
import { Ssd1306Panel, type I2cTransfer } from './ssd1306.js';

/** The passenger display: an SSD1306 (or SH1106) 128x64 OLED on I2C. */
export interface OledDisplaySettings {
  bus: number;
  address: number;
  transfer: I2cTransfer;
  columnOffset: number;
  flip: boolean;
  /** How long each page stays up when a screen needs more than one. */
  pageMs: number;
}

export interface OledContext {
  clock: Pick<Clock, 'setTimer'>;
  /** A failure of a page turned by the timer, after show() had resolved. */
  onFault: (fault: I2cFault) => void;
  openBus?: I2cBusOpener;
}

export class OledDisplay implements Display {
  private pages: TextRow[][] = [[]];
  private index = 0;
  private turn: TimerHandle | undefined;
  private needsInit = true;
  private closed = false;
  /** Frames go out one after another; a page turn never interleaves with a new screen. */
  private wire: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: I2cBus,
    private readonly panel: Ssd1306Panel,
    private readonly settings: OledDisplaySettings,
    private readonly context: OledContext,
  ) {}

  /** Resolves once the first page of the screen is on the panel. */
  async show(lines: readonly DisplayLine[], style?: DisplayStyle): Promise<void> {
    // After close() nothing is drawn, and no page timer is started again.
    if (this.closed) return;
    this.turn?.cancel();
    this.pages = layoutPages(GATE_FONT, lines, style);
    this.index = 0;
    await this.present();
  }

  /**
   * Page turns stopped, panel off, bus closed. The gate's stop must call it: the timer that turns the
   * pages of a long screen (a refusal, large text) would otherwise keep the process alive for ever.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.turn?.cancel();
    this.turn = undefined;
    await this.wire.catch(() => undefined);
    await this.panel.off().catch(() => undefined);
    await this.bus.close().catch(() => undefined);
  }

  /** Start the panel (init, clear, on) at once, so a wiring fault shows at start, not at the first tap. */
  async init(): Promise<void> {
    await this.send(new Framebuffer().bytes);
  }

  private present(): Promise<void> {
    const frame = renderPage(GATE_FONT, this.pages[this.index]!).bytes;
    const pages = this.pages;
    const sent = this.send(frame);
    if (pages.length > 1) {
      this.turn = this.context.clock.setTimer(this.settings.pageMs, () => {
        if (this.pages !== pages || this.closed) return;
        this.index = (this.index + 1) % pages.length;
        this.present().catch(this.context.onFault);
      });
    }
    return sent;
  }

  private send(frame: Uint8Array): Promise<void> {
    const sent = this.wire.catch(() => undefined).then(async () => {
      try {
        if (this.needsInit) await this.panel.init();
        this.needsInit = false;
        await this.panel.draw(frame);
      } catch (error) {
        this.needsInit = true;
        throw explainI2cError(error, describe(this.settings), this.settings.bus);
      }
    });
    this.wire = sent;
    return sent;
  }
}

/** Open the bus and start the panel; rejects with an I2cFault a technician can act on. */
export async function createOledDisplay(settings: OledDisplaySettings, context: OledContext): Promise<OledDisplay> {
  let bus: I2cBus;
  try {
    bus = await (context.openBus ?? openI2cBus)(settings.bus, { forceAccess: false });
  } catch (error) {
    throw explainI2cError(error, describe(settings), settings.bus);
  }
  const panel = new Ssd1306Panel(bus, { address: settings.address, transfer: settings.transfer, columnOffset: settings.columnOffset, flip: settings.flip });
  const display = new OledDisplay(bus, panel, settings, context);
  try {
    await display.init();
  } catch (error) {
    await bus.close().catch(() => undefined);
    throw error;
  }
  return display;
}

function describe(settings: OledDisplaySettings): string {
  return `display at 0x${settings.address.toString(16)} on i2c-${settings.bus}`;
}
