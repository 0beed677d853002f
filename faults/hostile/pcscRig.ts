import type { CardReader } from '../../hal/cardReader.js';
import type { Outcome } from '../../src/core/gate.js';
import { PcscCardReader } from '../../hal/pcsc/pcscCardReader.js';
import { PcscdProcess } from '../../sim/pcscdProcess.js';
import type { ApduResponder } from '../../sim/virtualCard.js';
import { VpcdCard } from '../../sim/vpcdCard.js';
import type { HostileGate } from './hostileGate.js';
import { until } from './until.js';

/**
 * The real PC/SC stack in front of a gate: pcsclite -> a private pcscd ->
 * vsmartcard-vpcd -> a virtual card on a TCP socket. libpcsclite binds to one
 * pcscd per process, so one rig per process.
 */
export class PcscRig {
  private constructor(
    readonly daemon: PcscdProcess,
    readonly reader: CardReader,
    private readonly slot: VpcdCard,
  ) {}

  static async start(): Promise<PcscRig> {
    const daemon = await PcscdProcess.start();
    return new PcscRig(daemon, new PcscCardReader({ socket: daemon.socketPath, reconnectMs: { first: 100, max: 400 } }), new VpcdCard(daemon.ports[0]!));
  }

  /** Resolves once the gate's PC/SC reader reports the vpcd slot. */
  async ready(gate: HostileGate): Promise<void> {
    const name = this.daemon.readerNames[0]!;
    await until(`the vpcd reader ${name} in pcscd`, () => (gate.readerEvents.some((e) => e.type === 'health' && e.healthy && e.detail.includes(name)) ? true : undefined));
  }

  /** Put `card` on the reader, take the gate's outcome, and take the card away again. */
  async tap(gate: HostileGate, card: ApduResponder): Promise<Outcome> {
    const seen = gate.outcomes.length;
    const removals = gate.readerEvents.filter((e) => e.type === 'card-removed').length;
    await this.slot.insert(card);
    try {
      return await until('the outcome of a card on the PC/SC reader', () => gate.outcomes[seen]);
    } finally {
      await this.slot.remove();
      await until('the card leaving the PC/SC reader', () => (gate.readerEvents.filter((e) => e.type === 'card-removed').length > removals ? true : undefined));
    }
  }

  async stop(): Promise<void> {
    await this.slot.remove();
    await this.daemon.stop();
  }

  log(): string {
    return this.daemon.log();
  }
}
