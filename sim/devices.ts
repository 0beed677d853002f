import type { Barrier, BarrierState } from '../hal/barrier.js';
import { CardIoError, type CardChannel, type CardReader, type CardReaderEvent } from '../hal/cardReader.js';
import type { CodeScanner, CodeScannerEvent } from '../hal/codeScanner.js';
import type { Display, DisplayLine, DisplayStyle } from '../hal/display.js';
import type { Indicators, LightColour, Tone } from '../hal/indicators.js';
import type { PassageEvent, PassageSensor } from '../hal/passageSensor.js';
import type { ApduResponder } from './virtualCard.js';
import type { VirtualClock } from './virtualClock.js';

/** How a simulated card behaves in the field. */
export interface CardPresentation {
  /** The card leaves the field after answering this many APDUs. */
  removeAfterApdus?: number;
}

class SimCardChannel implements CardChannel {
  private answered = 0;
  private gone = false;

  constructor(
    readonly readerName: string,
    private readonly card: ApduResponder,
    private readonly presentation: CardPresentation,
  ) {
    card.reset();
  }

  get atr(): Uint8Array {
    return this.card.atr;
  }

  remove(): void {
    this.gone = true;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    const limit = this.presentation.removeAfterApdus;
    if (this.gone || (limit !== undefined && this.answered >= limit)) {
      this.gone = true;
      throw new CardIoError('removed', `card left the field of ${this.readerName}`);
    }
    this.answered++;
    return this.card.respond(apdu);
  }

  async release(): Promise<void> {}
}

/** A reader a scenario puts cards on. */
export class SimCardReader implements CardReader {
  private listener: ((event: CardReaderEvent) => void) | undefined;
  private current: SimCardChannel | undefined;

  constructor(readonly name = 'sim reader 0') {}

  async start(listener: (event: CardReaderEvent) => void): Promise<void> {
    this.listener = listener;
  }

  async stop(): Promise<void> {
    this.listener = undefined;
  }

  present(card: ApduResponder, presentation: CardPresentation = {}): void {
    this.current?.remove();
    this.current = new SimCardChannel(this.name, card, presentation);
    this.listener?.({ type: 'card-present', channel: this.current });
  }
}

/** A scan module a scenario holds phones up to. */
export class SimCodeScanner implements CodeScanner {
  private listener: ((event: CodeScannerEvent) => void) | undefined;

  async start(listener: (event: CodeScannerEvent) => void): Promise<void> {
    this.listener = listener;
  }

  async stop(): Promise<void> {
    this.listener = undefined;
  }

  scan(text: string): void {
    this.listener?.({ type: 'code', text });
  }

  /** A binary code (a transport QR code), as a module in raw or hex output passes it. */
  scanBytes(bytes: Uint8Array): void {
    this.listener?.({ type: 'binary', bytes });
  }
}

export interface BarrierAction {
  action: 'open' | 'close';
  /** Monotonic ms on the simulated clock. */
  at: number;
}

/** A barrier that records every command it gets. */
export class SimBarrier implements Barrier {
  readonly actions: BarrierAction[] = [];
  private current: BarrierState = 'closed';

  constructor(private readonly clock: VirtualClock) {}

  async open(): Promise<void> {
    this.current = 'open';
    this.actions.push({ action: 'open', at: this.clock.monotonic() });
  }

  async close(): Promise<void> {
    this.current = 'closed';
    this.actions.push({ action: 'close', at: this.clock.monotonic() });
  }

  state(): BarrierState {
    return this.current;
  }
}

export class SimPassageSensor implements PassageSensor {
  private listener: ((event: PassageEvent) => void) | undefined;

  async start(listener: (event: PassageEvent) => void): Promise<void> {
    this.listener = listener;
  }

  async stop(): Promise<void> {
    this.listener = undefined;
  }

  pass(): void {
    this.listener?.({ type: 'passage' });
  }
}

export class SimIndicators implements Indicators {
  colour: LightColour = 'off';
  readonly tones: Tone[] = [];

  async light(colour: LightColour): Promise<void> {
    this.colour = colour;
  }

  async tone(tone: Tone): Promise<void> {
    this.tones.push(tone);
  }
}

export class SimDisplay implements Display {
  lines: readonly DisplayLine[] = [];
  style: DisplayStyle = {};

  async show(lines: readonly DisplayLine[], style: DisplayStyle = {}): Promise<void> {
    this.lines = lines;
    this.style = style;
  }
}
