import type { TrustStore } from '../credentials/trustList.js';
import type { Journal } from '../journal.js';
import type { Log } from '../log.js';
import type { GateMode } from '../settings.js';
import { openFleetCommand, type FleetCommand } from './fleetCommand.js';
import { FleetMessageError, type FleetTime } from './fleetMessage.js';

export interface CommandResult {
  nonce: string | null;
  type: string | null;
  result: 'done' | 'refused';
  reason: string;
}

/** What commands act on. */
export interface CommandTarget {
  open(): void;
  setMode(mode: GateMode): void;
  resync(issuer: string | undefined): void;
  reloadTrust(): void;
  /** Start (true) or end (false) the emergency release; throws when the gate cannot do as told. */
  emergency(active: boolean): void;
}

/**
 * How long past its command's expiry a nonce is still kept (pruned only while
 * the clock is trusted), a margin against a clock that was wrong while it
 * seemed right. Commands are few, so the table stays small.
 */
const NONCE_KEPT_AFTER_EXPIRY_MS = 7 * 86_400_000;

/**
 * Signed fleet commands (docs/sync.md): verified, checked for this gate, for
 * expiry and for replay, then carried out. A nonce is kept in the journal's
 * own table of command nonces (never in the used-credential table, which site
 * sharing writes) until well after the command expires, never shortened, so
 * neither a restart nor a forged site message makes an old command playable
 * again.
 */
export class CommandHandler {
  constructor(
    private readonly gateId: string,
    private readonly journal: Journal,
    private readonly trust: () => TrustStore,
    private readonly target: CommandTarget,
    private readonly now: () => number,
    private readonly skewSec: number,
    private readonly log: Log,
  ) {}

  /** `time`: how the link judges fleet keys (an untrusted clock at the last trusted time); absent, the clock is taken as trusted. */
  handle(bytes: Uint8Array, time?: FleetTime): CommandResult {
    const nowMs = this.now();
    let command: FleetCommand;
    try {
      command = openFleetCommand(bytes, this.trust(), time ?? Math.floor(nowMs / 1000), this.skewSec);
    } catch (error) {
      const reason = error instanceof FleetMessageError ? error.reason : 'malformed';
      this.log.warn({ reason, detail: (error as Error).message }, 'command refused');
      return { nonce: null, type: null, result: 'refused', reason };
    }
    const refused = (reason: string, detail: string): CommandResult => {
      this.log.warn({ type: command.type, nonce: command.nonce, reason, detail }, 'command refused');
      return { nonce: command.nonce, type: command.type, result: 'refused', reason };
    };
    if (command.gate !== this.gateId) return refused('wrong-gate', `command for ${command.gate}`);
    if (nowMs >= (command.exp + this.skewSec) * 1000) return refused('expired', `expired at ${command.exp}`);
    let fresh: boolean;
    try {
      fresh = this.journal.claimCommandNonce(command.nonce, (command.exp + this.skewSec) * 1000);
    } catch (error) {
      // A nonce that cannot be kept would let the command run again: not carried out.
      return refused('failed', `nonce not recorded: ${(error as Error).message}`);
    }
    if (!fresh) return refused('replayed', `nonce ${command.nonce} seen before`);
    // Only by a trusted clock: one that ran ahead must not forget a nonce whose command is still valid.
    if (time?.trusted !== false) this.prune(nowMs);
    try {
      this.execute(command);
    } catch (error) {
      return refused('failed', (error as Error).message);
    }
    this.log.info({ type: command.type, nonce: command.nonce }, 'command done');
    return { nonce: command.nonce, type: command.type, result: 'done', reason: 'ok' };
  }

  private prune(nowMs: number): void {
    try {
      this.journal.pruneCommandNonces(nowMs - NONCE_KEPT_AFTER_EXPIRY_MS);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'pruning command nonces failed');
    }
  }

  private execute(command: FleetCommand): void {
    switch (command.type) {
      case 'open':
        return this.target.open();
      case 'set-mode':
        return this.target.setMode(command.mode);
      case 'resync':
        return this.target.resync(command.issuer);
      case 'reload-trust':
        return this.target.reloadTrust();
      case 'emergency':
        return this.target.emergency(true);
      case 'emergency-release':
        return this.target.emergency(false);
    }
  }
}
