import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { PcscdProcess } from '../../sim/pcscdProcess.js';
import type { ApduResponder } from '../../sim/virtualCard.js';
import { VirtualPsam } from '../../sim/tunion/virtualPsam.js';
import type { VirtualTunionCard } from '../../sim/tunion/virtualTunionCard.js';
import { VpcdCard } from '../../sim/vpcdCard.js';
import type { Tap } from '../../src/core/tap.js';
import { tapFromRow, type TapRow } from '../../src/core/tapRow.js';
import { SIM_LANE_DEVICES } from './laneConfig.js';
import { DaemonProcess } from '../daemonProcess.js';

/**
 * Where in a purse purchase the gate is killed: as DEBIT arrives at the card
 * (it never runs), once the card has carried DEBIT out (its answer never
 * reaches the gate), or as the PSAM is asked to check MAC2 (the gate has the
 * answer; the tap is not committed yet).
 */
export type PurseKillMoment = 'debit-not-reached' | 'debit-unanswered' | 'mac2-check';

const INS_DEBIT = 0x54;
const INS_MAC2 = 0x72;

/**
 * Passes APDUs through, and calls `hit` when one with the instruction byte
 * `ins` comes: `instead` of the module running it (the gate is dead; nobody
 * reads the answer), or `after` it ran.
 */
class Tripwire implements ApduResponder {
  constructor(
    private readonly inner: ApduResponder,
    private readonly ins: number,
    private readonly when: 'instead' | 'after',
    private readonly hit: () => void,
  ) {}

  get atr(): Uint8Array {
    return this.inner.atr;
  }

  reset(): void {
    this.inner.reset();
  }

  respond(apdu: Uint8Array): Uint8Array {
    const tripped = apdu[0] === 0x80 && apdu[1] === this.ins;
    if (tripped && this.when === 'instead') {
      this.hit();
      return Uint8Array.of(0x6f, 0x00);
    }
    const answer = this.inner.respond(apdu);
    if (tripped && this.when === 'after') this.hit();
    return answer;
  }
}

/** A bus validator taking T-Union cards on vpcd slot 0, its PSAM on slot 1 (the test's pcscd), codes on stdin. */
function writePurseLane(root: string, pcscd: PcscdProcess, trustPath: string): { configPath: string; journalPath: string } {
  const state = join(root, 'state');
  mkdirSync(state, { recursive: true });
  const [cardReader, samReader] = pcscd.readerNames as [string, string];
  const config = {
    gate: {
      id: 'PURSE-KILL-1',
      site: 'purse-site',
      mode: 'bus',
      doubleTapMs: 0,
      apduTimeoutMs: 1_500,
      cards: { applications: ['tunion'], deadlineMs: 8_000 },
      tunion: { city: '4000' },
      bus: { operator: 'cq-bus', route: '818', fares: { default: 200 } },
    },
    paths: { state, trust: trustPath },
    devices: {
      readers: [{ driver: 'pcsc', socket: pcscd.socketPath, include: `^${cardReader}$`, exclude: '$^' }],
      sam: { driver: 'pcsc', socket: pcscd.socketPath, reader: `^${samReader}$` },
      ...SIM_LANE_DEVICES,
    },
    metrics: { port: 0 },
    log: { level: 'info' },
  };
  const configPath = join(root, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return { configPath, journalPath: join(state, 'journal.db') };
}

export interface PurseKillRun {
  /** The card's balance drop, and the debits it made, when everything was over. */
  charged: number;
  debits: number;
  /** Taps of the card in the journal, in order: the one written at the restart, then the return's. */
  taps: Tap[];
  /** Seqs the daemon opened the barrier for (from its log, across both runs). */
  barrierSeqs: number[];
}

/**
 * The real daemon on the PC/SC stack, SIGKILLed at `moment` of a purse
 * purchase, started again, and the same card presented once more. The caller
 * checks what the journal and the card say: no passage without a row, no
 * charge without a row or a pending row, no charge twice.
 */
export async function purseKill(options: { cli: string; root: string; pcscd: PcscdProcess; trustPath: string; card: VirtualTunionCard; moment: PurseKillMoment }): Promise<PurseKillRun> {
  const { configPath, journalPath } = writePurseLane(options.root, options.pcscd, options.trustPath);
  const cardSlot = new VpcdCard(options.pcscd.ports[0]!);
  const samSlot = new VpcdCard(options.pcscd.ports[1]!);
  const psam = new VirtualPsam();
  const before = options.card.balance;
  const daemons: DaemonProcess[] = [];
  const start = async (): Promise<DaemonProcess> => {
    const daemon = new DaemonProcess(options.cli, configPath);
    daemons.push(daemon);
    if (!(await daemon.waitForLine((l) => l.msg === 'gate ready', 30_000))) throw new Error(`the daemon did not start: ${daemon.stderr}`);
    if (!(await daemon.waitForLine((l) => l.msg === 'psam' && l.healthy === true, 15_000))) throw new Error(`the daemon never read its PSAM: ${daemon.stderr}`);
    return daemon;
  };
  try {
    let first!: DaemonProcess;
    const kill = (): void => first.kill('SIGKILL');
    await samSlot.insert(options.moment === 'mac2-check' ? new Tripwire(psam, INS_MAC2, 'instead', kill) : psam);
    first = await start();
    const card = options.moment === 'mac2-check' ? options.card : new Tripwire(options.card, INS_DEBIT, options.moment === 'debit-not-reached' ? 'instead' : 'after', kill);
    await cardSlot.insert(card);
    const exit = await first.closed;
    if (exit.signal !== 'SIGKILL') throw new Error(`the daemon was to be killed mid-purchase but ended with ${JSON.stringify(exit)}: ${first.stderr}`);
    await cardSlot.remove();
    await samSlot.swap(psam);
    const second = await start();
    const seen = second.taps().length;
    await cardSlot.insert(options.card);
    if (!(await second.waitForLine(() => second.taps().length > seen, 20_000))) throw new Error(`no tap for the returning card: ${second.stderr}`);
    await cardSlot.remove();
    await second.stop();
    const db = new Database(journalPath, { readonly: true });
    const taps = (db.prepare('SELECT * FROM taps ORDER BY seq').all() as TapRow[]).map(tapFromRow).filter((t) => t.subject === options.card.cardNumber);
    db.close();
    const barrierSeqs = daemons.flatMap((d) => d.lines.filter((l) => l.msg === 'barrier opened for tap').map((l) => l.seq as number));
    return { charged: before - options.card.balance, debits: options.card.debits.length, taps, barrierSeqs };
  } finally {
    for (const daemon of daemons) daemon.kill('SIGKILL');
    await Promise.all(daemons.map((d) => d.closed));
    await cardSlot.remove();
    await samSlot.remove();
  }
}
