import type { CardChannel } from '../../../../hal/cardReader.js';
import type { SamSlot } from '../../../../hal/samSlot.js';
import { Refusal, refuse } from '../../reasons.js';
import { exchange, SW_OK, swText } from '../apdu.js';
import { concat, u16, u32 } from './purseCrypto.js';

/** The PSAM's terminal id: binary file 16 (`00 B0 96 00 06`), then its transport application DF 8011 (the source of CARDS.md §2). */
const READ_TERMINAL_ID = Uint8Array.from([0x00, 0xb0, 0x96, 0x00, 0x06]);
const SELECT_TRANSPORT_DF = Uint8Array.from([0x00, 0xa4, 0x00, 0x00, 0x02, 0x80, 0x11]);

/** What MAC1 is computed over (`80 70 00 00 24`). */
export interface Mac1Request {
  random: Uint8Array;
  atc: number;
  amount: number;
  type: number;
  dateTime: Uint8Array;
  keyVersion: number;
  algorithmId: number;
  /** The card's diversification factor (the last 8 bytes of its application serial). */
  serial: Uint8Array;
  /** The issuer code (first 4 bytes of the issuer id): the PSAM's second diversification level. */
  issuerCode: Uint8Array;
}

export interface Mac1 {
  /** The PSAM's transaction serial for this purchase (4 bytes). */
  terminalSerial: Uint8Array;
  mac1: Uint8Array;
}

export type PsamHealth = (healthy: boolean, detail: string) => void;

/**
 * The purchase side of a PSAM in the gate's SAM slot: its terminal id, MAC1
 * for a card's purchase and the check of the card's MAC2. One operation at a
 * time; after any failure it selects its application again before the next.
 * Without a working PSAM the gate reads purse cards but refuses them
 * (`psam-unavailable`), and serves every other card and code.
 */
export class Psam {
  private terminal: Uint8Array | undefined;
  private problem = 'the PSAM has not been read yet';
  private queue: Promise<unknown> = Promise.resolve();
  private report: PsamHealth | undefined;
  private lastReport = '';
  private readonly channel: CardChannel;

  constructor(
    private readonly slot: SamSlot,
    private readonly timeoutMs: number,
  ) {
    // The module answers like a card: the card exchange's 61xx and 6Cxx handling serves it too.
    this.channel = {
      get readerName() {
        return slot.name;
      },
      atr: new Uint8Array(0),
      transmit: (apdu, timeout) => slot.transmit(apdu, timeout),
      release: async () => undefined,
    };
  }

  /** Watch the slot and read the terminal id at once; health goes to `report` as device `psam`. */
  async start(report: PsamHealth): Promise<void> {
    this.report = report;
    await this.slot.start((healthy, detail) => {
      if (!healthy) this.down(detail);
      else void this.serial(() => this.open()).catch(() => undefined);
    });
    await this.serial(() => this.open()).catch(() => undefined);
  }

  stop(): Promise<void> {
    this.report = undefined;
    return this.slot.stop();
  }

  /** The terminal id (6 bytes) once read; undefined while the PSAM does not work. */
  terminalId(): Uint8Array | undefined {
    return this.terminal;
  }

  /** Why the PSAM does not work now; undefined while it does. */
  unavailable(): string | undefined {
    return this.terminal ? undefined : this.problem;
  }

  /** MAC1 for a purchase; throws a Refusal `psam-unavailable` when the PSAM cannot give it. */
  mac1(request: Mac1Request): Promise<Mac1 & { terminalId: Uint8Array }> {
    return this.serial(async () => {
      const terminalId = await this.ready();
      const data = concat(request.random, u16(request.atc), u32(request.amount), Uint8Array.of(request.type), request.dateTime, Uint8Array.of(request.keyVersion, request.algorithmId), request.serial, request.issuerCode, Uint8Array.of(0xff, 0xff, 0xff, 0xff));
      const answer = await this.send(Uint8Array.from([0x80, 0x70, 0x00, 0x00, data.length, ...data]), 'MAC1 (80 70)');
      // A PSAM that answers, but not with a MAC, has no key for this card's issuer or key version: the card's problem here, not the PSAM's.
      if (answer.sw !== SW_OK || answer.data.length !== 8) refuse('card-not-supported', `the PSAM gives no MAC1 for this card (80 70 answered ${swText(answer.sw)} with ${answer.data.length} bytes): no purchase key for its issuer or key version`);
      return { terminalId, terminalSerial: answer.data.slice(0, 4), mac1: answer.data.slice(4, 8) };
    });
  }

  /** Whether the PSAM takes the card's MAC2 (`80 72`); throws `psam-unavailable` when it cannot say. */
  verifyMac2(mac2: Uint8Array): Promise<boolean> {
    return this.serial(async () => {
      await this.ready();
      const answer = await this.send(Uint8Array.from([0x80, 0x72, 0x00, 0x00, 0x04, ...mac2]), 'MAC2 check (80 72)');
      return answer.sw === SW_OK;
    });
  }

  private async ready(): Promise<Uint8Array> {
    return this.terminal ?? (await this.open());
  }

  private async open(): Promise<Uint8Array> {
    this.terminal = undefined;
    const id = await this.send(READ_TERMINAL_ID, 'READ BINARY terminal id (00 B0 96)');
    if (id.sw !== SW_OK || id.data.length !== 6) return this.fail(`the PSAM's terminal id file answered ${swText(id.sw)} with ${id.data.length} bytes, not 6`);
    const select = await this.send(SELECT_TRANSPORT_DF, 'SELECT DF 8011');
    if (select.sw !== SW_OK) return this.fail(`the PSAM has no transport application (SELECT 8011 answered ${swText(select.sw)})`);
    this.terminal = id.data.slice();
    this.health(true, `PSAM terminal ${Buffer.from(this.terminal).toString('hex').toUpperCase()} in ${this.slot.name}`);
    return this.terminal;
  }

  private async send(apdu: Uint8Array, what: string): Promise<{ data: Uint8Array; sw: number }> {
    try {
      return await exchange(this.channel, apdu, this.timeoutMs, `PSAM ${what}`);
    } catch (error) {
      // A PSAM that stops answering is a device fault, not the passenger's card.
      return this.fail(error instanceof Refusal ? error.detail : `PSAM ${what}: ${(error as Error).message}`);
    }
  }

  private fail(detail: string): never {
    this.down(detail);
    refuse('psam-unavailable', detail);
  }

  private down(detail: string): void {
    this.terminal = undefined;
    this.problem = detail;
    this.health(false, detail);
  }

  private health(healthy: boolean, detail: string): void {
    const key = `${healthy}:${detail}`;
    if (key === this.lastReport) return;
    this.lastReport = key;
    this.report?.(healthy, detail);
  }

  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
