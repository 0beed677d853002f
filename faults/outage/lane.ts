import type { OutageGate } from './outageGate.js';
import { EXPECTED_REASON, Passengers, type City } from './passengers.js';

/** What the passengers of a lane did, and any decision that was not the one planned. */
export interface LaneFigures {
  taps: number;
  byReason: Record<string, number>;
  /** Presentations the gate decided otherwise than planned, or did not journal: must be empty. */
  wrong: string[];
}

/**
 * Passengers presenting codes at one gate through Gate.presentCode, the path
 * a scanner takes: each one verified, decided, journaled. The board's virtual
 * wall clock is stepped to each passenger's time, so a run covers hours of
 * service in seconds; an accepted passenger walks through the barrier.
 */
export class Lane {
  private readonly passengers: Passengers;
  readonly figures: LaneFigures = { taps: 0, byReason: {}, wrong: [] };

  constructor(
    readonly gate: OutageGate,
    city: City,
    random: () => number,
  ) {
    this.passengers = new Passengers(city, gate.gateId, random);
  }

  /** The next passenger, at wall time `atMs` of the gate's clock (never earlier than its clock). */
  async presentAt(atMs: number): Promise<void> {
    const { clock } = this.gate.board;
    clock.advanceTo(Math.max(clock.monotonic(), atMs - (clock.now() - clock.monotonic())));
    await this.present();
  }

  /** The next passenger, `stepMs` of gate time after the previous one. */
  async presentAfter(stepMs: number): Promise<void> {
    this.gate.board.clock.advance(stepMs);
    await this.present();
  }

  private async present(): Promise<void> {
    const nowSec = Math.floor(this.gate.board.clock.now() / 1000);
    const passenger = this.passengers.next(nowSec);
    const outcome = await this.gate.gate.presentCode(passenger.code);
    if (outcome.type !== 'tap') {
      this.wrong(`${passenger.plan}: ${outcome.type}${outcome.type === 'unjournaled' ? ` (${outcome.error})` : ''}`);
      return;
    }
    const { tap } = outcome;
    this.figures.taps++;
    this.figures.byReason[tap.reason] = (this.figures.byReason[tap.reason] ?? 0) + 1;
    if (tap.reason !== EXPECTED_REASON[passenger.plan]) this.wrong(`seq ${tap.seq}: ${passenger.plan} decided ${tap.reason}`);
    if (tap.result === 'accepted') {
      this.gate.board.passage.pass();
      if (passenger.accepted) this.passengers.remember(passenger.code, passenger.accepted);
    }
  }

  private wrong(what: string): void {
    if (this.figures.wrong.length < 50) this.figures.wrong.push(`${this.gate.gateId} ${what}`);
  }
}
