import type { TrustStore } from '../credentials/trustList.js';
import type { Journal } from '../journal.js';
import type { Log } from '../log.js';
import type { GateMode } from '../settings.js';
import { openFleetCommand, type FleetCommand } from './fleetCommand.js';
import { FleetMessageError } from './fleetMessage.js';

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

const NONCE_PREFIX = 'cmd:';

/**
 * Signed fleet commands (docs/sync.md): verified, checked for this gate, for
 * expiry and for replay, then carried out. A nonce is kept in the journal's
 * used-credential table until the command expires, so a restart does not
 * make an old command playable again.
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

  handle(bytes: Uint8Array): CommandResult {
    const nowMs = this.now();
    let command: FleetCommand;
    try {
      command = openFleetCommand(bytes, this.trust(), Math.floor(nowMs / 1000));
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
    const key = NONCE_PREFIX + command.nonce;
    if (this.journal.isUsed(key, nowMs)) return refused('replayed', `nonce ${command.nonce} seen before`);
    this.journal.rememberUsed(key, (command.exp + this.skewSec) * 1000);
    try {
      this.execute(command);
    } catch (error) {
      return refused('failed', (error as Error).message);
    }
    this.log.info({ type: command.type, nonce: command.nonce }, 'command done');
    return { nonce: command.nonce, type: command.type, result: 'done', reason: 'ok' };
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
