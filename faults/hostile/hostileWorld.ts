import type { Outcome } from '../../src/core/gate.js';
import { Mosquitto } from '../../sim/mosquittoProcess.js';
import type { ApduResponder } from '../../sim/virtualCard.js';
import { FleetWire } from './fleetWire.js';
import { siteDevices, type SiteDevices } from './siteDevices.js';
import { startHostileGate, type HostileGate } from './hostileGate.js';
import { makeKeys, START_MS, trustDocument, type HostileKeys } from './hostileKeys.js';
import { PcscRig } from './pcscRig.js';
import { until } from './until.js';

export const SITE = 'cq-metro-jiefangbei';
/** Past the gate's double-tap window (3 s): the next presentation is a new one. */
const NEXT_PASSENGER_MS = 4_000;
const DENY_LIST_LINES = ['deny-list update', 'deny-list update refused', 'deny-list update not applied'];
const SITE_IGNORED = 'site used-credential message ignored';
const TRUST_LINES = ['trust-list update refused', 'trust-list update ignored: older than the one in force', 'trust list updated'];

interface CommandResult {
  nonce: string | null;
  type: string | null;
  result: string;
  reason: string;
}

/** A presentation's outcome in the catalogue's notation: `tap:<reason>` (`tap:ok` if accepted), `repeat`, `unjournaled`. */
export function outcomeText(outcome: Outcome): string {
  if (outcome.type === 'tap') return `tap:${outcome.tap.reason}`;
  return outcome.type;
}

function opens(gate: HostileGate): number {
  return gate.board.barrier.actions.filter((a) => a.action === 'open').length;
}

/**
 * Two passenger-facing gates of one site on a private mosquitto, each with
 * its real FleetLink; gate A also has the real PC/SC stack as its second
 * reader when asked for. The probes present credentials and publish
 * messages the way a passenger or someone on the broker would, and describe
 * what the gate did, including what it must not do (open the barrier).
 */
export class HostileWorld {
  /** Genuine fleet messages seen on the broker, kept by the attacker for replay. */
  readonly captured = new Map<string, Uint8Array>();

  private constructor(
    readonly keys: HostileKeys,
    readonly a: HostileGate,
    readonly b: HostileGate,
    readonly wire: FleetWire,
    /** Device certificates of the site's gates, and the compromised gate's and a stranger's, for site messages. */
    readonly devices: SiteDevices,
    private readonly pcsc: PcscRig | undefined,
    /** Why the PC/SC stack is not there, when it was asked for. */
    readonly pcscError: string | undefined,
    /** What start() started, stopped last first. */
    private readonly cleanups: (() => Promise<void>)[],
  ) {}

  static async start(options: { pcsc: boolean }): Promise<HostileWorld> {
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const keys = makeKeys();
      const broker = await Mosquitto.start();
      cleanups.push(() => broker.stop());
      let pcsc: PcscRig | undefined;
      let pcscError: string | undefined;
      if (options.pcsc) {
        try {
          pcsc = await PcscRig.start();
          const rig = pcsc;
          cleanups.push(() => rig.stop());
        } catch (error) {
          pcscError = `pcscd did not start: ${(error as Error).message}`;
        }
      }
      const devices = siteDevices();
      const gate = async (gateId: string, extraReader?: PcscRig['reader']): Promise<HostileGate> => {
        const started = await startHostileGate({ url: broker.url, gateId, site: SITE, trust: trustDocument(keys), startWallMs: START_MS, siteAuth: (now) => devices.auth(gateId, now), ...(extraReader ? { extraReader } : {}) });
        cleanups.push(() => started.dispose());
        return started;
      };
      const a = await gate('HOSTILE-A', pcsc?.reader);
      const b = await gate('HOSTILE-B');
      const wire = await FleetWire.connect(broker.url, 'hostile-fleet');
      cleanups.push(() => wire.close());
      await wire.subscribe('citygate/v1/gates/+/cmd/result');
      if (pcsc) {
        try {
          await pcsc.ready(a);
        } catch (error) {
          pcscError = `${(error as Error).message}\npcscd log:\n${pcsc.log().slice(-2000)}`;
        }
      }
      return new HostileWorld(keys, a, b, wire, devices, pcsc, pcscError, cleanups);
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      throw error;
    }
  }

  async stop(): Promise<void> {
    const problems: string[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => problems.push((error as Error).message));
    if (problems.length > 0) throw new Error(`cleanup: ${problems.join('; ')}`);
  }

  /** Both gates' clocks past the double-tap window: what comes next is another presentation. */
  nextPassenger(): void {
    for (const gate of [this.a, this.b]) gate.board.clock.advance(NEXT_PASSENGER_MS);
  }

  nowSec(gate: HostileGate = this.a): number {
    return gate.nowSec();
  }

  tapCode(text: string, gate: HostileGate = this.a): Promise<string> {
    return this.presented(gate, () => gate.gate.presentCode(text));
  }

  /** A card on the gate's sim reader. */
  tapCard(card: ApduResponder, gate: HostileGate = this.a): Promise<string> {
    return this.presented(gate, async () => {
      const seen = gate.outcomes.length;
      gate.board.reader.present(card);
      return until('the outcome of a card on the sim reader', () => gate.outcomes[seen]);
    });
  }

  /** A card through pcsclite, pcscd and vpcd to gate A's PC/SC reader. */
  tapCardPcsc(card: ApduResponder): Promise<string> {
    const rig = this.pcsc;
    if (!rig || this.pcscError) return Promise.resolve(`error: ${this.pcscError ?? 'the PC/SC stack was not asked for'}`);
    return this.presented(this.a, () => rig.tap(this.a, card));
  }

  /** A passenger's presentation; an accepted one must open the barrier (and the passenger walks through), a refused one must not. */
  private async presented(gate: HostileGate, present: () => Promise<Outcome>): Promise<string> {
    const before = opens(gate);
    const got = outcomeText(await present());
    const opened = opens(gate) > before;
    if (got !== 'tap:ok') return opened ? `${got} + barrier opened` : got;
    if (!opened) return `${got} + barrier stayed shut`;
    gate.board.passage.pass();
    return got;
  }

  /** Publish on issuer `topicIssuer`'s deny-list topic; how gate A handled it: `applied`, `ignored:<reason>`. */
  async denyList(topicIssuer: string, bytes: Uint8Array): Promise<string> {
    const line = await this.handled(this.a, DENY_LIST_LINES, () => this.wire.publish(`citygate/v1/denylist/${topicIssuer}`, bytes));
    if (line.message === 'deny-list update refused') return `ignored:${String(line.fields.reason)}`;
    if (line.message === 'deny-list update not applied') return `error: ${String(line.fields.err)}`;
    const status = (line.fields.result as { status: string }).status;
    return status === 'applied' ? 'applied' : status === 'ignored' ? 'ignored:older-seq' : `ignored:${status}`;
  }

  /**
   * Publish `payload` on the site's `used` topic, then junk after it, and
   * wait until gate A has ignored the junk: the message before it was handled.
   */
  async siteUsed(payload: string): Promise<void> {
    const ignored = this.a.log.count(SITE_IGNORED);
    await this.wire.publish(`citygate/v1/sites/${SITE}/used`, payload);
    await this.wire.publish(`citygate/v1/sites/${SITE}/used`, 'not json');
    await until('gate A handled the site messages', () => (this.a.log.count(SITE_IGNORED) > ignored ? true : undefined));
  }

  /** Publish a trust-list update; how gate A handled it: `applied`, `ignored:<reason>`. */
  async trustUpdate(bytes: Uint8Array): Promise<string> {
    const line = await this.handled(this.a, TRUST_LINES, () => this.wire.publish('citygate/v1/trust', bytes));
    if (line.message === 'trust-list update refused') return `ignored:${String(line.fields.reason)}`;
    return line.message === 'trust list updated' ? 'applied' : 'ignored:older-seq';
  }

  /**
   * Publish on `target`'s command topic; `cmd:<result>:<reason>` from its
   * cmd/result, and for a refused command anything it changed anyway
   * (barrier, mode, emergency).
   */
  async command(target: HostileGate, bytes: Uint8Array): Promise<string> {
    const topic = `citygate/v1/gates/${target.gateId}/cmd/result`;
    const seen = this.wire.json<CommandResult>(topic).length;
    const before = { opens: opens(target), mode: target.gate.mode(), emergency: target.gate.emergency() };
    await this.wire.publish(`citygate/v1/gates/${target.gateId}/cmd`, bytes);
    const result = await until(`a result on ${topic}`, () => this.wire.json<CommandResult>(topic)[seen]);
    const got = `cmd:${result.result}:${result.reason}`;
    if (result.result !== 'refused') return got;
    const changed: string[] = [];
    if (opens(target) > before.opens) changed.push('barrier opened');
    if (target.gate.mode() !== before.mode) changed.push(`mode became ${target.gate.mode()}`);
    if (target.gate.emergency() !== before.emergency) changed.push('emergency release started');
    return changed.length === 0 ? got : `${got} + ${changed.join(', ')}`;
  }

  /** Wait until `gate` has learnt `key` from the site's other gates; false if it never does. */
  async learnt(gate: HostileGate, key: string): Promise<boolean> {
    try {
      await until(`${gate.gateId} learning ${key} from the site`, () => (gate.replay.seen(key, gate.board.clock.now()) ? true : undefined), 5_000);
      return true;
    } catch {
      return false;
    }
  }

  private async handled(gate: HostileGate, messages: readonly string[], publish: () => Promise<void>): Promise<(typeof gate.log.lines)[number]> {
    const seen = gate.log.matching(messages).length;
    await publish();
    return until(`${gate.gateId} handling the message`, () => gate.log.matching(messages)[seen]);
  }
}
