import type { DaemonProcess } from '../daemonProcess.js';
import { denySubjects } from './denyListPublisher.js';
import type { CrashParties } from './fleetKeys.js';
import type { PresentationLedger, PresentedKind, SubjectKind } from './ledger.js';

const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
/** Codes stay valid for the whole run: a replay must be refused as `replayed`, never as `expired`. */
const CODE_LIFETIME_SEC = 6 * 3600;

const BURST_CHANCE = 0.25;
const BURST_MAX = 8;

export interface FeederPace {
  minMs: number;
  maxMs: number;
}

/**
 * The passengers of one run: a code every few ms at a random pace, a mix of
 * fresh valid codes, replays of codes accepted earlier (or in flight at the
 * last kill), garbage, tampered codes, codes of an unknown issuer, and codes
 * of deny-listed holders once the gate holds their snapshot.
 */
export class TapFeeder {
  /** Valid subjects presented in this run, in order. */
  readonly shown: string[] = [];
  written = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly daemon: DaemonProcess,
    private readonly ledger: PresentationLedger,
    private readonly parties: CrashParties,
    private readonly gate: string,
    private readonly rng: () => number,
    private readonly pace: FeederPace,
    private readonly counter: { next: number },
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    const wait = this.pace.minMs + this.rng() * (this.pace.maxMs - this.pace.minMs);
    this.timer = setTimeout(() => {
      // Now and then a small crowd: several codes queued at once, so that kills find taps waiting.
      const count = this.rng() < BURST_CHANCE ? 2 + Math.floor(this.rng() * (BURST_MAX - 1)) : 1;
      for (let i = 0; i < count; i++) this.presentOne();
      this.schedule();
    }, wait);
  }

  private presentOne(): void {
    const { kind, subject, subjectKind, text } = this.choose();
    if (!this.daemon.scan(text)) return;
    this.written++;
    this.ledger.present(kind, subject, subjectKind, text);
    if (subjectKind === 'valid' && subject !== undefined) this.shown.push(subject);
  }

  private choose(): { kind: PresentedKind; subject: string | undefined; subjectKind: SubjectKind | undefined; text: string } {
    const r = this.rng();
    const replay = r < 0.12 ? this.replayable() : undefined;
    if (replay) return { kind: 'replay', subject: replay.subject, subjectKind: 'valid', text: replay.text };
    if (r < 0.17) return { kind: 'garbage', subject: undefined, subjectKind: undefined, text: this.garbage() };
    if (r < 0.2) {
      const subject = this.newSubject('m');
      return { kind: 'tampered', subject, subjectKind: 'tampered', text: tamper(this.code(subject), this.rng) };
    }
    if (r < 0.24) {
      const subject = this.newSubject('u');
      return { kind: 'unknown-issuer', subject, subjectKind: 'unknown-issuer', text: this.parties.stranger.issuerCode(this.claims(subject)) };
    }
    if (r < 0.29 && this.ledger.heldDenySeq > 0) {
      const listed = denySubjects(this.ledger.heldDenySeq);
      const subject = listed[Math.floor(this.rng() * listed.length)]!;
      return { kind: 'deny-listed', subject, subjectKind: 'deny-listed', text: this.code(subject) };
    }
    const subject = this.newSubject('c');
    return { kind: 'fresh', subject, subjectKind: 'valid', text: this.code(subject) };
  }

  /** Half the time a code in flight at the last kill, else one the gate was seen to accept. */
  private replayable(): { subject: string; text: string } | undefined {
    const { inDoubt, accepted, subjects } = this.ledger;
    const pool = inDoubt.length > 0 && this.rng() < 0.5 ? inDoubt : accepted;
    if (pool.length === 0) return undefined;
    const subject = pool[Math.floor(this.rng() * pool.length)]!;
    const text = subjects.get(subject)?.text;
    return text === undefined ? undefined : { subject, text };
  }

  private newSubject(prefix: string): string {
    return `${this.gate}-${prefix}${this.counter.next++}`;
  }

  private claims(subject: string): { sub: string; iat: number; exp: number } {
    const iat = Math.floor(Date.now() / 1000);
    return { sub: subject, iat, exp: iat + CODE_LIFETIME_SEC };
  }

  private code(subject: string): string {
    return this.parties.issuer.issuerCode(this.claims(subject));
  }

  /** Printable junk, sometimes dressed as a CG1 code; never a `#` lane-control line. */
  private garbage(): string {
    const length = 1 + Math.floor(this.rng() * 80);
    const alphabet = this.rng() < 0.5 ? BASE45 : 'abcdefghijklmnopqrstuvwxyz0123456789{}[]":,!?';
    let text = '';
    for (let i = 0; i < length; i++) text += alphabet[Math.floor(this.rng() * alphabet.length)];
    return this.rng() < 0.5 ? `CG1:${text}` : `x${text}`;
  }
}

/** One base45 character of the code changed: a forged or damaged code. */
function tamper(code: string, rng: () => number): string {
  const at = 4 + Math.floor(rng() * (code.length - 4));
  const current = code[at]!;
  const replacement = BASE45[(BASE45.indexOf(current) + 1 + Math.floor(rng() * (BASE45.length - 1))) % BASE45.length]!;
  return `${code.slice(0, at)}${replacement}${code.slice(at + 1)}`;
}
