import type { Credential } from '../credentials/credential.js';
import { VISITOR_LINE } from '../messages.js';
import { refuse } from '../reasons.js';
import type { GateSettings } from '../settings.js';
import { AllowList, type AllowEntry } from './allowList.js';
import { localTime } from './localTime.js';
import type { Admission, ModeRules, Place } from './modeRules.js';
import { inSchedule, type Schedule } from './schedule.js';

/** The `access` section of the gate's settings, as the config schema (src/app/rules/accessSchema.ts) builds it. */
export interface AccessSettings {
  /** UID entries come in as issuer `uid` with the UID (upper-case hex) as subject. */
  allow: readonly AllowEntry[];
  schedules: Readonly<Record<string, Schedule>>;
  /** Issuers whose issuer-signed codes for this site admit a visitor who is not on the list. */
  visitorIssuers: readonly string[];
  /** Read cards without the CG application by their UID (clonable: see docs/modes.md). */
  uidCards: boolean;
}

/** An access gate without its section (switched to access by command): nobody is on the list, so nobody passes. */
export const NO_ACCESS: AccessSettings = { allow: [], schedules: {}, visitorIssuers: [], uidCards: false };

/**
 * Access control (a community, a school, a hospital): the allow-list decides,
 * each entry within its weekly schedule; an issuer-signed code that an
 * accepted issuer made for this site lets a visitor in, once (its `cti` is
 * single-use like any issuer code). Nothing is charged; one passage each.
 */
export class AccessRules implements ModeRules {
  private readonly allow: AllowList;
  private readonly visitorIssuers: ReadonlySet<string>;

  constructor(
    private readonly settings: GateSettings,
    private readonly access: AccessSettings,
  ) {
    this.allow = new AllowList(access.allow);
    this.visitorIssuers = new Set(access.visitorIssuers);
  }

  admit(credential: Credential, nowMs: number): Admission {
    const entry = this.allow.find(credential.issuer, credential.subject);
    if (entry) {
      if (entry.schedule !== undefined) this.checkSchedule(entry.schedule, nowMs, credential);
      return { fare: undefined, passages: 1 };
    }
    if (this.isVisitor(credential)) return { fare: undefined, passages: 1, note: [VISITOR_LINE] };
    return refuse('not-allowed', `${credential.issuer} ${credential.subject} is not on the allow-list${this.visitorIssuers.has(credential.issuer) ? ' and carries no visitor code for this site' : ''}`);
  }

  record(): void {}

  place(): Place | undefined {
    return undefined;
  }

  live(): Record<string, unknown> {
    return { allowListed: this.allow.size };
  }

  private checkSchedule(name: string, nowMs: number, credential: Credential): void {
    // The schema makes every entry name a defined schedule; an unknown one here admits nobody.
    const schedule = this.access.schedules[name] ?? [];
    const time = localTime(nowMs, this.settings.timezone);
    if (!inSchedule(schedule, time)) {
      refuse('outside-schedule', `${credential.issuer} ${credential.subject} may pass on schedule ${name}; now is weekday ${time.weekday} minute ${time.minute} (${this.settings.timezone})`);
    }
  }

  /** A visitor: an issuer-signed code (not a card, not a holder's own offline code) naming this site in its product. */
  private isVisitor(credential: Credential): boolean {
    return credential.profile === 'issuer' && this.visitorIssuers.has(credential.issuer) && credential.product?.site !== undefined && credential.product.site === this.settings.site;
  }
}
