import type { CardChannel } from '../../hal/cardReader.js';
import type { DisplayLine } from '../../hal/display.js';
import { CardVerifier } from './credentials/cardVerifier.js';
import { CodeVerifier, type CodePayload } from './credentials/codeVerifier.js';
import type { Credential, CredentialKind, Product } from './credentials/credential.js';
import type { RevocationList } from './credentials/emv/revocationList.js';
import type { BankCardKeys } from './credentials/qpbocCard.js';
import type { TrustStore } from './credentials/trustList.js';
import type { PurseTapData } from './credentials/tunion/purseData.js';
import { decidePurse, type PurseParts, type PurseStep } from './credentials/tunion/purseDecision.js';
import type { DenyList } from './denyList.js';
import { usedAtGateLine } from './messages.js';
import { asIdentified, Refusal, refuse, type Identity, type RefusalReason } from './reasons.js';
import { ticketUseKey, type ReplayGuard } from './replayGuard.js';
import type { Admission, ModeRules, Place } from './policy/modeRules.js';
import { rulesForMode } from './policy/rulesForMode.js';
import { windowNote } from './policy/windowNote.js';
import type { GateMode, GateSettings } from './settings.js';
import type { Tap } from './tap.js';

export type Decision =
  | {
      result: 'accepted';
      reason: 'ok';
      credential: Credential;
      fare: number | undefined;
      passages: number;
      note: DisplayLine[] | undefined;
      /** A purse card's purchase, still to run: the gate runs it after its double-tap check, and journals what it gives. */
      purse?: PurseStep;
      /** A purse card's purchase once made (or a torn one proved paid): the tap's `purse`. */
      purseData?: PurseTapData;
    }
  | {
      result: 'refused';
      reason: RefusalReason;
      detail: string;
      identity: Identity | undefined;
      /** What the passenger reads under the reason (a ticket's time slot). */
      note?: DisplayLine[];
      /** The credential's kind, set only when the card was verified in full (key proved) before the rules refused it; a UID card's tap is kind `uid`. */
      kind?: CredentialKind;
      /** A bank card refused inside its application: journaled as kind `emv` all the same (not a proof of anything, so not a double-tap key). */
      bankCard?: boolean;
      /** A T-Union card refused, or its purchase torn: journaled as kind `tunion` (reading it proved nothing, so not a double-tap key). */
      purseCard?: boolean;
      purseData?: PurseTapData;
    };

export interface DecisionTime {
  nowMs: number;
  clockTrusted: boolean;
}

/**
 * Verifies a credential and applies this gate's rules to it. The one code
 * path for the gate, the simulator and `citygate check`; it touches no device
 * and remembers nothing (the replay guard is read, the gate records into it).
 */
export class Decider {
  private readonly codes: CodeVerifier;
  private readonly cards: CardVerifier;
  /** Per mode, so that a mode set by command keeps its state when it comes back. */
  private readonly rules = new Map<GateMode, ModeRules>();

  constructor(
    trust: TrustStore,
    private readonly settings: GateSettings,
    private readonly denyList: DenyList,
    private readonly replay: ReplayGuard,
    /** CA keys and token key for bank cards; without them the gate takes none. */
    bank?: BankCardKeys,
    /** PSAM, pending purchases and config for T-Union purse cards; without them the gate reads none. */
    private readonly purse?: PurseParts,
  ) {
    this.codes = new CodeVerifier(trust);
    this.cards = new CardVerifier(trust, bank, purse?.settings);
  }

  setTrust(trust: TrustStore): void {
    this.codes.setTrust(trust);
    this.cards.setTrust(trust);
  }

  /** The fleet's issuer-certificate revocation list for bank cards. */
  setRevocations(list: RevocationList): void {
    this.cards.setRevocations(list);
  }

  /** The rules of the mode the gate is in now. */
  modeRules(mode: GateMode = this.settings.mode): ModeRules {
    let rules = this.rules.get(mode);
    if (!rules) {
      rules = rulesForMode(mode, this.settings);
      this.rules.set(mode, rules);
    }
    return rules;
  }

  /** A tap was journaled: the rules of its mode learn from it (passback, capacity, transfers). */
  recordTap(tap: Tap): void {
    this.modeRules(tap.mode).record(tap);
    this.purse?.pending.record(tap);
  }

  place(): Place | undefined {
    return this.modeRules().place();
  }

  /** A code's text, or the bytes of a binary one (a transport QR code, or a text code's UTF-8). */
  decideCode(code: CodePayload, time: DecisionTime): Decision {
    return settle(() => {
      if (!time.clockTrusted) refuse('clock-untrusted', 'wall time is not trusted; codes depend on it');
      const s = this.settings;
      return this.applyRules(this.codes.verify(code, { nowMs: time.nowMs, skewSec: s.skewSec, freshnessSec: s.freshnessSec, timezone: s.timezone }), time);
    });
  }

  async decideCard(channel: CardChannel, time: DecisionTime): Promise<Decision> {
    let kind: CredentialKind | undefined;
    try {
      if (!time.clockTrusted && !this.settings.cardsWhenClockUntrusted) refuse('clock-untrusted', 'wall time is not trusted and cards are set to depend on it');
      const s = this.settings;
      // UID cards only where an allow-list gives them meaning: never in a mode that admits any verified card.
      const uidCards = s.mode === 'access' && s.access?.uidCards === true;
      const credential = await this.cards.verify(channel, {
        nowMs: time.nowMs,
        skewSec: s.skewSec,
        gateId: s.gateId,
        apduTimeoutMs: s.apduTimeoutMs,
        uidCards,
        applications: s.cards?.applications,
        deadlineMs: s.cards?.deadlineMs,
        amountFen: this.modeRules().adultFare?.(time.nowMs) ?? 0,
        timezone: s.timezone,
      });
      kind = credential.kind;
      if (credential.tunion && this.purse) {
        // Reading a purse card proves nothing (its MAC2 does, when it pays): its refusals are kind tunion but no double-tap key.
        kind = undefined;
        return await decidePurse(this.purse, credential, credential.tunion, time, s, (c, admit) => settle(() => this.applyRules(c, time, admit))).catch((error: unknown) => {
          const refusal = refusalOf(error);
          return refusal.result === 'refused' ? { ...refusal, identity: refusal.identity ?? { issuer: credential.issuer, subject: credential.subject, category: credential.category }, purseCard: true } : refusal;
        });
      }
      return this.applyRules(credential, time);
    } catch (error) {
      const refusal = refusalOf(error);
      return refusal.result === 'refused' && kind !== undefined ? { ...refusal, kind } : refusal;
    }
  }

  /** The gate's rules, in order; a refusal here always names the holder. Throws a Refusal. */
  private applyRules(credential: Credential, time: DecisionTime, admit?: (credential: Credential, nowMs: number) => Admission): Decision {
    const s = this.settings;
    const identity = { issuer: credential.issuer, subject: credential.subject, category: credential.category };
    asIdentified(identity, () => {
      if (this.denyList.isDenied(credential.issuer, credential.subject, credential.cti)) {
        refuse('deny-listed', `${credential.issuer} ${credential.subject} is on the deny list`);
      }
      const product = credential.product;
      if (product?.site !== undefined && s.site !== undefined && product.site !== s.site) refuse('wrong-site', `ticket for site ${product.site}, this is ${s.site}`);
      if (product?.zone !== undefined && s.zone !== undefined && product.zone !== s.zone) refuse('wrong-zone', `ticket for zone ${product.zone}, this is ${s.zone}`);
      checkWindow(product, time.nowMs, s);
      if (product?.entries === 0) refuse('entries-used', 'the ticket allows no entries');
      if (!s.categories.includes(credential.category)) refuse('category-not-allowed', `${credential.category} holders may not pass this gate`);
      if (credential.replay && this.replay.seen(credential.replay.key, time.nowMs)) {
        const elsewhere = this.replay.usedElsewhere(credential.replay.key);
        if (elsewhere !== undefined) refuse('replayed', `code already used at gate ${elsewhere} of this site`, [usedAtGateLine(elsewhere)]);
        refuse('replayed', 'code already used');
      }
    });
    const ticket = credential.ticket;
    const usedBefore = ticket ? this.replay.ticketUses(ticket.id, time.nowMs) : 0;
    if (ticket && usedBefore >= ticket.entries) {
      asIdentified(identity, () => refuse('entries-used', `all ${ticket.entries} entries of the ticket are used`));
    }
    const admission = asIdentified(identity, () => (admit ? admit(credential, time.nowMs) : this.modeRules().admit(credential, time.nowMs)));
    const limit = credential.fareLimit;
    if (limit !== undefined && (admission.fare ?? 0) > limit) {
      asIdentified(identity, () => refuse('over-limit', `fare ${admission.fare} fen is above the single-trip limit of ${limit} fen`));
    }
    if (!ticket) return { result: 'accepted', reason: 'ok', credential, fare: admission.fare, passages: admission.passages, note: admission.note };
    // A ticket grants no more passages than it has entries left, and the gate records how many are used
    // (with the code's own key) in the one key it journals with the tap and shares with the site.
    const passages = Math.min(admission.passages, ticket.entries - usedBefore);
    const code = credential.replay;
    const used = { key: ticketUseKey(ticket.id, usedBefore + passages, code?.key), until: Math.max(ticket.until, code?.until ?? 0) };
    return { result: 'accepted', reason: 'ok', credential: { ...credential, replay: used }, fare: admission.fare, passages, note: admission.note };
  }
}

/** The product's valid window (a ticket's time slot), with the same skew as the credential's own times; a refusal shows the slot. */
function checkWindow(product: Product | undefined, nowMs: number, s: GateSettings): void {
  const nowSec = nowMs / 1000;
  if (product?.from !== undefined && nowSec < product.from - s.skewSec) refuse('outside-window', `ticket valid from ${product.from}`, windowNote(product, nowMs, s.timezone));
  if (product?.until !== undefined && nowSec >= product.until + s.skewSec) refuse('outside-window', `ticket valid until ${product.until}`, windowNote(product, nowMs, s.timezone));
}

function settle(decide: () => Decision): Decision {
  try {
    return decide();
  } catch (error) {
    return refusalOf(error);
  }
}

/**
 * Every failure becomes a refusal: an input that trips a bug in a parser must
 * still be a clean `malformed` for the passenger, with the error kept for the log.
 */
function refusalOf(error: unknown): Decision {
  if (error instanceof Refusal) {
    return { result: 'refused', reason: error.reason, detail: error.detail, identity: error.identity, note: error.note, ...(error.card?.kind === 'emv' ? { bankCard: true } : {}), ...(error.card?.kind === 'tunion' ? { purseCard: true } : {}) };
  }
  return { result: 'refused', reason: 'malformed', detail: `unexpected: ${(error as Error)?.stack ?? String(error)}`, identity: undefined };
}
