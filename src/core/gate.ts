import type { Board } from '../../hal/board.js';
import type { CardChannel, CardReaderEvent } from '../../hal/cardReader.js';
import type { TimerHandle } from '../../hal/clock.js';
import type { CodeScannerEvent } from '../../hal/codeScanner.js';
import type { DisplayLine } from '../../hal/display.js';
import type { EmergencyContact, EmergencyContactEvent } from '../../hal/emergencyInput.js';
import type { PassageEvent } from '../../hal/passageSensor.js';
import type { PromptId } from '../../hal/speaker.js';
import type { CodePayload } from './credentials/codeVerifier.js';
import type { Psam } from './credentials/tunion/psam.js';
import type { PurseTapData } from './credentials/tunion/purseData.js';
import type { PurchaseHooks } from './credentials/tunion/tunionSession.js';
import type { Decider, Decision } from './decider.js';
import type { GateEventType, Journal } from './journal.js';
import type { Log } from './log.js';
import { acceptScreen, EMERGENCY_SCREEN, IDLE_SCREEN, refusalScreen } from './messages.js';
import { Refusal } from './reasons.js';
import type { ReplayGuard } from './replayGuard.js';
import type { GateMode, GateSettings } from './settings.js';
import type { Tap, TapDraft, TapKind } from './tap.js';

export type GateState = 'idle' | 'reading' | 'deciding' | 'open';

/** How often a failing journal is tried again while nobody taps. */
const JOURNAL_PROBE_MS = 5_000;

/** Journal meta key holding a commanded emergency release across restarts. */
const EMERGENCY_COMMAND_KEY = 'emergency_command';

/** What became of one presentation. */
export type Outcome =
  | { type: 'tap'; tap: Tap }
  /** The same card or code again within the double-tap window: the earlier tap stands. */
  | { type: 'repeat'; of: Tap }
  /** Decided, but the journal refused the row: not a tap, the barrier stays shut. */
  | { type: 'unjournaled'; draft: TapDraft; error: string };

export interface UsedCredential {
  key: string;
  until: number;
}

export interface DeviceHealth {
  healthy: boolean;
  detail: string;
}

export type Alarm = { type: 'tailgate' } | { type: 'journal-unavailable'; error: string } | { type: 'device'; error: string };

/** A code carries its double-tap key (its text, or its bytes in hex), made once. */
type Presentation = { kind: 'card'; channel: CardChannel; atMono: number; atWall: number } | { kind: 'code'; code: CodePayload; key: string; atMono: number; atWall: number };

export interface GateParts {
  board: Board;
  decider: Decider;
  journal: Journal;
  replay: ReplayGuard;
  settings: GateSettings;
  log: Log;
  /** The PSAM in the SAM slot, where purse cards are taken: started with the gate, its health is device `psam`. */
  psam?: Psam;
}

/**
 * The gate: presentations are handled one at a time, from reading through
 * deciding to the journal and the barrier. An accepted tap is committed before
 * the barrier command goes out, and a tap is reported only once committed. Each
 * accepted tap grants passages; the barrier stays open until they are used or
 * the open timeout runs out. An emergency release (fire-alarm contact or fleet
 * command) holds it open instead, counting every passage, until released.
 */
export class Gate {
  private state: GateState = 'idle';
  private busy = false;
  private credits = 0;
  private openTimer: TimerHandle | undefined;
  private journalHealthy = true;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly recent = new Map<string, { atMono: number; tap: Tap }>();
  private readonly outcomeListeners: ((outcome: Outcome) => void)[] = [];
  private readonly stateListeners: ((state: GateState) => void)[] = [];
  private readonly alarmListeners: ((alarm: Alarm) => void)[] = [];
  private readonly usedListeners: ((used: UsedCredential) => void)[] = [];
  private readonly healthListeners: (() => void)[] = [];
  private journalProbe: TimerHandle | undefined;
  private readonly devices = new Map<string, DeviceHealth>();
  /** Emergency release: held while the fire-alarm contact or a fleet command says so (docs/modes.md). */
  private emergencyByContact = false;
  private emergencyByCommand = false;
  private emergencyPassageCount = 0;
  private emergencyPassagesAtStart = 0;
  private readonly emergencyListeners: ((active: boolean) => void)[] = [];

  constructor(private readonly parts: GateParts) {}

  /** Every presentation's outcome, taps once committed. */
  onOutcome(listener: (outcome: Outcome) => void): void {
    this.outcomeListeners.push(listener);
  }

  onState(listener: (state: GateState) => void): void {
    this.stateListeners.push(listener);
  }

  onAlarm(listener: (alarm: Alarm) => void): void {
    this.alarmListeners.push(listener);
  }

  /** The emergency release starting (true) or ending (false). */
  onEmergency(listener: (active: boolean) => void): void {
    this.emergencyListeners.push(listener);
  }

  /** The current mode's live figures (a venue's count today), for the fleet's status. */
  modeFigures(): Record<string, unknown> {
    return this.parts.decider.modeRules().live();
  }

  /** True while the barrier is held open for evacuation. */
  emergency(): boolean {
    return this.emergencyByContact || this.emergencyByCommand;
  }

  /** Passages counted while the barrier was held open, since the gate started. */
  emergencyPassages(): number {
    return this.emergencyPassageCount;
  }

  /**
   * A signed fleet command starts (true) or ends (false) the emergency
   * release. Ending it lifts the command's hold only: an open fire-alarm
   * contact keeps the barrier open, and this throws so that the command is
   * answered as refused.
   */
  commandEmergency(active: boolean): void {
    this.setEmergency(() => (this.emergencyByCommand = active), 'command');
    // Kept for a restart: a gate that reboots during an evacuation must not close on the people leaving.
    try {
      this.parts.journal.setMetaValue(EMERGENCY_COMMAND_KEY, active ? 'on' : 'off');
    } catch (error) {
      this.parts.log.error({ err: error }, 'emergency command not kept for a restart');
    }
    if (!active && this.emergencyByContact) throw new Error('the fire-alarm contact is still open: the barrier stays held open until it closes');
  }

  /** Single-use credentials as their taps commit, for sharing with the other gates of the site. */
  onCredentialUsed(listener: (used: UsedCredential) => void): void {
    this.usedListeners.push(listener);
  }

  /** A device's health or the journal's changed, either way: the fleet's status should say so soon. */
  onHealthChange(listener: () => void): void {
    this.healthListeners.push(listener);
  }

  /** The last health each device reported, by device name (`reader:0`, `scanner:1`). */
  deviceHealth(): Record<string, DeviceHealth> {
    return Object.fromEntries(this.devices);
  }

  /** False from a failed commit until the next one succeeds. */
  journalWorking(): boolean {
    return this.journalHealthy;
  }

  mode(): GateMode {
    return this.parts.settings.mode;
  }

  /** A signed command changed the mode: taps from now on record it (and follow its rules). */
  setMode(mode: GateMode): void {
    this.parts.settings.mode = mode;
  }

  /** Open for one passage without a tap: a fleet command for a passenger staff have let through. */
  remoteOpen(): void {
    if (this.emergency()) return;
    this.parts.log.info({}, 'barrier opened by command');
    this.grantPassages(1);
    this.say('accept');
    if (!this.busy) this.setState('open');
  }

  currentState(): GateState {
    return this.state;
  }

  async start(): Promise<void> {
    const { board } = this.parts;
    // An evacuation under way when the gate (re)starts goes on without the barrier closing in between.
    if (board.emergency) await this.startContact(board.emergency);
    if (this.parts.journal.metaValue(EMERGENCY_COMMAND_KEY) === 'on') this.setEmergency(() => (this.emergencyByCommand = true), 'command');
    if (!this.emergency()) await board.barrier.close();
    // Asked again: the loop may have opened while the barrier was closing.
    if (!this.emergency()) this.show(IDLE_SCREEN);
    // The PSAM's terminal id is read before the first card: a purse card must not wait for it.
    await this.parts.psam?.start((healthy, detail) => {
      this.parts.log.info({ healthy, detail }, 'psam');
      this.reportDevice('psam', healthy, detail);
    });
    for (const [i, reader] of board.readers.entries()) await reader.start((event) => this.onReaderEvent(`reader:${i}`, event));
    for (const [i, scanner] of board.scanners.entries()) await scanner.start((event) => this.onScannerEvent(`scanner:${i}`, event));
    await board.passage.start((event) => this.onPassage(event));
  }

  async stop(): Promise<void> {
    const { board } = this.parts;
    for (const reader of board.readers) await reader.stop();
    for (const scanner of board.scanners) await scanner.stop();
    await board.passage.stop();
    await board.emergency?.stop();
    await this.queue;
    await this.parts.psam?.stop();
    this.openTimer?.cancel();
    this.journalProbe?.cancel();
    // Stopping the software does not end an evacuation: the barrier stays as it is.
    if (!this.emergency()) await board.barrier.close();
  }

  /** Resolves once every presentation so far has been handled. */
  async settled(): Promise<void> {
    await this.queue;
  }

  /** A code's text, or the bytes of a binary code. */
  presentCode(code: CodePayload): Promise<Outcome> {
    const { clock } = this.parts.board;
    return this.enqueue({ kind: 'code', code, key: codeKey(code), atMono: clock.monotonic(), atWall: clock.now() });
  }

  presentCard(channel: CardChannel): Promise<Outcome> {
    const { clock } = this.parts.board;
    return this.enqueue({ kind: 'card', channel, atMono: clock.monotonic(), atWall: clock.now() });
  }

  private onReaderEvent(device: string, event: CardReaderEvent): void {
    if (event.type === 'card-present') void this.presentCard(event.channel);
    else if (event.type === 'health') this.reportDevice(device, event.healthy, event.detail);
  }

  private onScannerEvent(device: string, event: CodeScannerEvent): void {
    if (event.type === 'code') void this.presentCode(event.text);
    else if (event.type === 'binary') void this.presentCode(event.bytes);
    else this.reportDevice(device, event.healthy, event.detail);
  }

  private async startContact(contact: EmergencyContact): Promise<void> {
    try {
      await contact.start((event) => this.onContactEvent(event));
    } catch (error) {
      this.reportDevice('emergency', false, `the fire-alarm contact did not start: ${(error as Error).message}`);
    }
  }

  private onContactEvent(event: EmergencyContactEvent): void {
    if (event.type === 'health') this.reportDevice('emergency', event.healthy, event.detail);
    else this.setEmergency(() => (this.emergencyByContact = event.active), 'contact');
  }

  /** Apply a change to one of the two holds; the barrier follows when the emergency as a whole starts or ends. */
  private setEmergency(change: () => void, source: 'contact' | 'command'): void {
    const before = this.emergency();
    change();
    const active = this.emergency();
    if (active === before) return;
    if (active) this.startEmergency(source);
    else this.endEmergency(source);
    for (const listener of this.emergencyListeners) listener(active);
  }

  private startEmergency(source: 'contact' | 'command'): void {
    const { barrier, indicators } = this.parts.board;
    this.parts.log.warn({ source }, 'emergency release: barrier held open');
    this.openTimer?.cancel();
    this.openTimer = undefined;
    this.credits = 0;
    this.emergencyPassagesAtStart = this.emergencyPassageCount;
    this.event('emergency-start', { source });
    this.device(barrier.open());
    this.device(indicators.light('green'));
    this.device(indicators.tone('attention'));
    this.show(EMERGENCY_SCREEN);
    this.say('emergency');
    this.setState('open');
  }

  private endEmergency(source: 'contact' | 'command'): void {
    const passages = this.emergencyPassageCount - this.emergencyPassagesAtStart;
    this.parts.log.warn({ source, passages }, 'emergency release ended');
    this.event('emergency-end', { source, passages });
    this.closeBarrier();
  }

  /** A device's health as its driver reports it, or as the daemon found it at start. */
  reportDevice(device: string, healthy: boolean, detail: string): void {
    const before = this.devices.get(device);
    this.devices.set(device, { healthy, detail });
    if (!healthy) this.alarm({ type: 'device', error: `${device}: ${detail}` });
    if (before?.healthy !== healthy || before.detail !== detail) this.healthChanged();
  }

  private healthChanged(): void {
    for (const listener of this.healthListeners) listener();
  }

  private enqueue(presentation: Presentation): Promise<Outcome> {
    const outcome = this.queue.then(async () => {
      const result = await this.handle(presentation);
      for (const listener of this.outcomeListeners) listener(result);
      return result;
    });
    this.queue = outcome.catch((error: unknown) => this.parts.log.error({ err: error }, 'presentation failed'));
    return outcome;
  }

  private async handle(p: Presentation): Promise<Outcome> {
    const { board, decider } = this.parts;
    this.pruneRecent(p.atMono);
    const earlierCode = p.kind === 'code' ? this.recent.get(p.key) : undefined;
    if (earlierCode) return { type: 'repeat', of: earlierCode.tap };
    this.busy = true;
    this.setState(p.kind === 'card' ? 'reading' : 'deciding');
    try {
      const time = { nowMs: board.clock.now(), clockTrusted: board.clock.trusted() };
      let decision: Decision;
      if (p.kind === 'card') {
        decision = await decider.decideCard(p.channel, time);
        this.setState('deciding');
      } else {
        decision = decider.decideCode(p.code, time);
      }
      let key = presentationKey(p, decision);
      // A code's text was looked up before deciding; a card is known by its number only now.
      const earlier = p.kind === 'card' && key !== undefined ? this.recent.get(key) : undefined;
      if (earlier) return { type: 'repeat', of: earlier.tap };
      // A purse card pays only now, once it is known not to be a double tap; only a purchase made is a double tap's anchor.
      if (p.kind === 'card' && decision.result === 'accepted' && decision.purse) {
        decision = await decision.purse.run(this.purseHooks(p, decision), board.clock.now());
        key = presentationKey(p, decision);
      }
      const draft = this.draft(p, decision);
      const outcome = decision.result === 'accepted' ? this.accept(decision, draft) : this.refuse(decision, draft);
      if (outcome.type === 'tap' && key !== undefined) this.recent.set(key, { atMono: p.atMono, tap: outcome.tap });
      return outcome;
    } finally {
      // The card is let go only after barrier and journal: releasing it is not on the passenger's clock.
      if (p.kind === 'card') await p.channel.release();
      this.busy = false;
      this.setState(this.credits > 0 || this.emergency() ? 'open' : 'idle');
    }
  }

  /**
   * The row first, then the barrier: a gate killed or cut off by a failing
   * disk between the two has let nobody through without a row. The commit
   * (one fsync) is on the passenger's clock; `latencyMs` is measured to the
   * decision, and the benchmarks show what the commit adds.
   */
  private accept(decision: Extract<Decision, { result: 'accepted' }>, draft: TapDraft): Outcome {
    const used = decision.credential.replay;
    const committed = this.commit(draft, used);
    if ('error' in committed) return this.unjournaled(draft, committed.error);
    this.parts.log.info({ seq: committed.tap.seq, id: committed.tap.id }, 'barrier opened for tap');
    this.grantPassages(decision.passages);
    this.signal('accept', [...acceptScreen(decision.credential.category, decision.fare), ...(decision.note ?? [])], `category-${decision.credential.category}`);
    return this.published(committed.tap, used);
  }

  private refuse(decision: Extract<Decision, { result: 'refused' }>, draft: TapDraft): Outcome {
    this.parts.log.info({ reason: decision.reason, detail: decision.detail }, 'refused');
    this.signal('refuse', [...refusalScreen(decision.reason), ...(decision.note ?? [])], 'refuse');
    const committed = this.commit(draft, undefined);
    return 'error' in committed ? this.unjournaled(draft, committed.error) : this.published(committed.tap, undefined);
  }

  private published(tap: Tap, used: { key: string; until: number } | undefined): Outcome {
    if (used) {
      this.parts.replay.remember(used.key, used.until, this.parts.board.clock.now());
      for (const listener of this.usedListeners) listener(used);
    }
    return { type: 'tap', tap };
  }

  private unjournaled(draft: TapDraft, error: string): Outcome {
    this.signal('refuse', refusalScreen('journal-unavailable'), 'refuse');
    return { type: 'unjournaled', draft, error };
  }

  private commit(draft: TapDraft, used: { key: string; until: number } | undefined): { tap: Tap } | { error: string } {
    try {
      const tap = this.parts.journal.append(draft, used);
      this.journalRecovered();
      this.parts.decider.recordTap(tap);
      return { tap };
    } catch (error) {
      this.journalFailed((error as Error).message);
      return { error: (error as Error).message };
    }
  }

  /**
   * A commit failed (disk full, read-only card): alarm, and try a small write
   * every few seconds, so that the gate and the fleet see the journal is back
   * when space returns, not only at the next passenger.
   */
  private journalFailed(message: string): void {
    const wasHealthy = this.journalHealthy;
    this.journalHealthy = false;
    this.alarm({ type: 'journal-unavailable', error: message });
    if (wasHealthy) this.healthChanged();
    this.journalProbe ??= this.parts.board.clock.setTimer(JOURNAL_PROBE_MS, () => this.probeJournal());
  }

  private probeJournal(): void {
    this.journalProbe = undefined;
    try {
      this.parts.journal.setMetaValue('journal_probe', new Date(this.parts.board.clock.now()).toISOString());
      this.parts.log.info({}, 'journal writable again');
      this.journalRecovered();
    } catch {
      this.journalProbe = this.parts.board.clock.setTimer(JOURNAL_PROBE_MS, () => this.probeJournal());
    }
  }

  private journalRecovered(): void {
    if (this.journalHealthy) return;
    this.journalHealthy = true;
    this.journalProbe?.cancel();
    this.journalProbe = undefined;
    this.healthChanged();
  }

  private draft(p: Presentation, decision: Decision): TapDraft {
    const { board, settings } = this.parts;
    // A card read by its UID alone is journaled as kind `uid`; a bank card as `emv`, refused or not.
    const kind: TapKind = (decision.result === 'accepted' ? decision.credential.kind : (decision.kind ?? (decision.bankCard ? 'emv' : decision.purseCard ? 'tunion' : undefined))) ?? p.kind;
    const purse = decision.purseData ? { purse: decision.purseData } : {};
    const base = {
      at: new Date(p.atWall).toISOString(),
      mode: settings.mode,
      kind,
      latencyMs: round(board.clock.monotonic() - p.atMono),
      place: this.parts.decider.place() ?? null,
    };
    if (decision.result === 'accepted') {
      const c = decision.credential;
      return { ...base, issuer: c.issuer, subject: c.subject, category: c.category, result: 'accepted', reason: 'ok', fare: decision.fare ?? null, product: c.product ?? null, emv: c.emv ?? null, ...purse };
    }
    const who = decision.identity;
    return { ...base, issuer: who?.issuer ?? null, subject: who?.subject ?? null, category: who?.category ?? null, result: 'refused', reason: decision.reason, fare: null, product: null, emv: null, ...purse };
  }

  /**
   * What a purse purchase keeps on disk before DEBIT goes out: the pending tap
   * it becomes if the card's answer never comes (or the gate dies waiting).
   * A journal that refuses it stops the purchase before any money moves.
   */
  private purseHooks(p: Presentation, decision: Extract<Decision, { result: 'accepted' }>): PurchaseHooks {
    return {
      intend: (pending: PurseTapData) => {
        const c = decision.credential;
        const pendingDecision: Decision = { result: 'refused', reason: 'purchase-pending', detail: 'DEBIT sent', identity: { issuer: c.issuer, subject: c.subject, category: c.category }, purseCard: true, purseData: pending };
        try {
          this.parts.journal.intendPurchase(pending.card, this.draft(p, pendingDecision), this.parts.board.clock.now());
        } catch (error) {
          this.journalFailed((error as Error).message);
          throw new Refusal('journal-unavailable', `the purchase was not begun: ${(error as Error).message}`);
        }
      },
    };
  }

  /** During an emergency release the barrier is open already and nothing is counted against a ticket. */
  private grantPassages(passages: number): void {
    if (this.emergency()) return;
    const { barrier } = this.parts.board;
    this.credits += passages;
    if (barrier.state() !== 'open') this.device(barrier.open());
    this.restartOpenTimer();
  }

  private onPassage(event: PassageEvent): void {
    if (this.emergency()) return this.emergencyPassage(event);
    if (event.type === 'tailgate' || this.credits === 0) {
      this.alarm({ type: 'tailgate' });
      this.device(this.parts.board.indicators.tone('alarm'));
      this.event('tailgate', { sensor: event.type, creditsLeft: this.credits });
      return;
    }
    this.credits--;
    if (this.credits === 0) this.closeBarrier();
    else this.admitNext();
  }

  /**
   * Passages left: the barrier is commanded again for the next person. A
   * turnstile (pulse mode) takes one pulse per person; a level barrier is
   * open already and stays so.
   */
  private admitNext(): void {
    this.device(this.parts.board.barrier.open());
    this.restartOpenTimer();
  }

  /**
   * Counted and journaled, never an alarm; the barrier is commanded again so
   * that a turnstile lets the next one through. A sensor's tailgate event is a
   * second person through on one opening, so it counts too (the row says which).
   */
  private emergencyPassage(event: PassageEvent): void {
    this.emergencyPassageCount++;
    this.event('emergency-passage', { sensor: event.type, passages: this.emergencyPassageCount - this.emergencyPassagesAtStart });
    this.device(this.parts.board.barrier.open());
  }

  /** A wide lane waits longer for its passenger: twice the gate's open time unless the operator set its own. */
  private openTimeoutMs(): number {
    const { openTimeoutMs, accessibility } = this.parts.settings;
    return accessibility?.wideLane ? (accessibility.openTimeoutMs ?? 2 * openTimeoutMs) : openTimeoutMs;
  }

  private restartOpenTimer(): void {
    this.openTimer?.cancel();
    this.openTimer = this.parts.board.clock.setTimer(this.openTimeoutMs(), () => {
      this.parts.log.info({ unused: this.credits }, 'open timeout: nobody passed');
      this.credits = 0;
      this.closeBarrier();
    });
  }

  private closeBarrier(): void {
    const { board } = this.parts;
    this.openTimer?.cancel();
    this.openTimer = undefined;
    this.device(board.barrier.close());
    this.device(board.indicators.light('off'));
    this.show(IDLE_SCREEN);
    if (!this.busy) this.setState('idle');
    this.idleMaintenance();
  }

  /** Housekeeping that must not sit on a passenger's clock: only while nobody is being served. */
  private idleMaintenance(): void {
    if (this.busy || this.credits > 0) return;
    try {
      this.parts.journal.checkpointIfDue();
    } catch (error) {
      this.parts.log.warn({ err: error }, 'journal checkpoint failed');
    }
  }

  /** Light, tone, screen and voice for one decision; while the barrier is held open for evacuation, the emergency screen stays. */
  private signal(kind: 'accept' | 'refuse', lines: DisplayLine[], prompt: PromptId): void {
    if (this.emergency()) return;
    const { indicators } = this.parts.board;
    this.device(indicators.light(kind === 'accept' ? 'green' : 'red'));
    // Clear tones: the long tone for acceptance, which a hard-of-hearing passenger hears where the short click is lost.
    this.device(indicators.tone(kind === 'accept' && this.parts.settings.accessibility?.clearTones ? 'attention' : kind));
    this.show(lines);
    this.say(prompt);
  }

  private show(lines: readonly DisplayLine[]): void {
    const large = this.parts.settings.accessibility?.largeText === true;
    this.device(this.parts.board.display.show(lines, large ? { large } : {}));
  }

  private say(prompt: PromptId): void {
    const { speaker } = this.parts.board;
    if (speaker) this.device(speaker.say(prompt));
  }

  /** A gate event in the journal; a disk that refuses it is the same alarm as for a tap. */
  private event(type: GateEventType, detail: Record<string, unknown>): void {
    try {
      this.parts.journal.appendEvent(type, detail, new Date(this.parts.board.clock.now()).toISOString());
    } catch (error) {
      this.journalFailed((error as Error).message);
    }
  }

  /** Device commands are not awaited on the tap path; a failing device raises an alarm, not an exception. */
  private device(command: Promise<void>): void {
    command.catch((error: unknown) => this.alarm({ type: 'device', error: (error as Error).message }));
  }

  private alarm(alarm: Alarm): void {
    this.parts.log.warn({ alarm }, 'alarm');
    for (const listener of this.alarmListeners) listener(alarm);
  }

  private setState(state: GateState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private pruneRecent(nowMono: number): void {
    for (const [key, entry] of this.recent) if (nowMono - entry.atMono > this.parts.settings.doubleTapMs) this.recent.delete(key);
  }
}

/**
 * What makes two presentations the same tap: the code's text, or the card's
 * issuer and number once the card has proved its key. A card refused before
 * that (a clone with a copied certificate, one pulled away mid-exchange) names
 * a number it has not proved: keyed by it, a clone would hide behind the real
 * card's tap, or get the real card turned away as a repeat.
 */
function presentationKey(p: Presentation, decision: Decision): string | undefined {
  if (p.kind === 'code') return p.key;
  if (decision.result === 'accepted') return `card:${decision.credential.issuer}:${decision.credential.subject}`;
  // A refusal carries the credential's kind only when the card was verified before the rules refused it.
  const who = decision.kind !== undefined ? decision.identity : undefined;
  return who ? `card:${who.issuer}:${who.subject}` : undefined;
}

/** A code's text, or its bytes in hex: two presentations of the same payload are the same tap. */
function codeKey(code: CodePayload): string {
  return typeof code === 'string' ? `code:${code}` : `bytes:${Buffer.from(code.buffer, code.byteOffset, code.byteLength).toString('hex')}`;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
