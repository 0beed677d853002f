import type { Decision, DecisionTime } from '../../decider.js';
import { balanceLine } from '../../messages.js';
import type { Admission } from '../../policy/modeRules.js';
import { Refusal, refuse } from '../../reasons.js';
import type { GateSettings } from '../../settings.js';
import type { Credential } from '../credential.js';
import { planMetroTrip } from './metroTrip.js';
import type { PendingPurse, PendingPurses } from './pendingPurses.js';
import type { Psam } from './psam.js';
import type { PurseTapData, PurseTransaction } from './purseData.js';
import { INDUSTRY, LOG_TYPES, type LogRecord } from './tunionFiles.js';
import type { Proof, PurchaseHooks, PurchasePlan, TunionSession } from './tunionSession.js';
import type { TunionSettings } from './tunionSettings.js';

/** What a gate needs to take purse cards: its PSAM (absent: none fitted), the pending purchases, the config. */
export interface PurseParts {
  psam: Psam | undefined;
  pending: PendingPurses;
  settings: TunionSettings;
}

/** The purchase an accepted purse card still has to make: the gate runs it after the double-tap check, with the journal's hook. */
export interface PurseStep {
  run(hooks: PurchaseHooks, nowMs: number): Promise<Decision>;
}

/** The decider's own rules (deny list, categories, the mode's rules), with the admission a metro purse trip replaces. */
export type PurseRules = (credential: Credential, admit: ((credential: Credential, nowMs: number) => Admission) | undefined) => Decision;

/**
 * A T-Union card, read: first a purchase of this card torn here before is
 * settled (GET TRANSACTION PROVE: paid, the barrier opens with no second
 * debit; not paid, the card's ATC unchanged, this tap settles it); then the
 * gate's rules, with the metro trip read from the card itself; the purchase
 * itself is left to the gate (a PurseStep) so that it runs after the
 * double-tap check and with its journal.
 */
export async function decidePurse(parts: PurseParts, credential: Credential, session: TunionSession, time: DecisionTime, settings: GateSettings, rules: PurseRules): Promise<Decision> {
  const identity = { issuer: credential.issuer, subject: credential.subject, category: credential.category };
  const trip: PurseTapData['trip'] = settings.mode === 'bus' ? 'bus' : settings.mode === 'metro-entry' ? 'entry' : settings.mode === 'metro-exit' ? 'exit' : 'other';
  const pending = parts.pending.find(session.card.issuer.cardNumber, time.nowMs);
  let settles: PurchasePlan['settles'];
  const torn = pending?.purse.transaction;
  if (pending && torn) {
    const proof = await session.prove(torn.atc);
    if (proof) {
      // The proof is of whatever purchase used that counter value: the card's log says whether it was this one.
      if (isThePurchase(await session.lastLog(), torn)) return completed(credential, session, pending, proof);
      settles = { tap: pending.tap, debited: false };
    } else {
      const terminal = parts.psam?.terminalId();
      // No proof: unpaid only if the card's counter has not moved since; moved by another transaction, it stays pending for the back office.
      if (terminal && (await session.currentAtc(terminal)) === torn.atc) settles = { tap: pending.tap, debited: false };
    }
  }
  let plan: PurchasePlan | undefined;
  const metro = parts.settings.metro;
  const admit =
    trip === 'entry' || trip === 'exit'
      ? (c: Credential, nowMs: number): Admission => {
          if (!metro) refuse('card-not-supported', 'this metro gate has no gate.tunion.metro section: it cannot price purse cards');
          const passbackMin = settings.metro?.passbackMin ?? 120;
          const planned = planMetroTrip({ direction: trip, record: session.card.metro, metro, city: parts.settings.city, category: c.category, passbackMin, nowMs, timeZone: settings.timezone });
          plan = planned.plan;
          return { fare: planned.fare, passages: 1, note: planned.note };
        }
      : undefined;
  const refusedData: PurseTapData = { ...session.purseData(trip), settles: settles ?? null };
  const decision = rules(credential, admit);
  if (decision.result === 'refused') return { ...decision, kind: undefined, purseCard: true, purseData: refusedData };
  const psam = parts.psam;
  const down = psam ? psam.unavailable() : 'no PSAM is fitted (devices.sam)';
  if (!psam || down !== undefined) return { result: 'refused', reason: 'psam-unavailable', detail: `cannot debit the card: ${down}`, identity, purseCard: true, purseData: refusedData };
  const purchase: PurchasePlan = { ...(plan ?? { amount: decision.fare ?? 0, trip, log: { type: LOG_TYPES.purchase, industry: trip === 'bus' ? INDUSTRY.bus : 0 } }), ...(settles ? { settles } : {}) };
  const accepted = { ...decision, fare: purchase.amount };
  return {
    ...accepted,
    purse: {
      run: async (hooks, nowMs) => {
        const result = await session.purchase(purchase, psam, hooks, nowMs, settings.timezone);
        if (result.type === 'paid') {
          const after = result.purse.transaction?.balanceAfter ?? session.card.balance;
          return { ...accepted, purseData: result.purse, note: [...(accepted.note ?? []), balanceLine(after)] };
        }
        if (result.type === 'torn') return { result: 'refused', reason: 'purchase-pending', detail: `the card left during DEBIT: ${result.detail}`, identity, purseCard: true, purseData: result.purse };
        return refusal(result.refusal, identity, result.purse);
      },
    },
  };
}

/** Whether the card's newest log record is the torn purchase's: this PSAM's terminal, its date-time to the second, its amount. */
function isThePurchase(log: LogRecord | undefined, torn: PurseTransaction): boolean {
  if (!log) return false;
  const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase();
  return hex(log.terminal) === torn.terminalId && hex(log.dateTime) === torn.dateTime && log.amount === torn.amount;
}

function refusal(error: Refusal, identity: { issuer: string; subject: string; category: string }, purse: PurseTapData): Decision {
  const note = error.reason === 'insufficient-balance' ? [balanceLine(purse.transaction?.balanceBefore ?? purse.balance)] : error.note;
  return { result: 'refused', reason: error.reason, detail: error.detail, identity, ...(note ? { note } : {}), purseCard: true, purseData: purse };
}

/** The card proved the torn purchase paid: the tap it settles is this passage's fare, and the card is not debited again. */
function completed(credential: Credential, session: TunionSession, pending: PendingPurse, proof: Proof): Decision {
  const transaction = pending.purse.transaction!;
  const purse: PurseTapData = {
    ...pending.purse,
    balance: session.card.balance,
    state: 'completed',
    transaction: { ...transaction, balanceAfter: transaction.balanceBefore - transaction.amount, tac: Buffer.from(proof.tac).toString('hex').toUpperCase(), mac2Verified: false },
    settles: { tap: pending.tap, debited: true },
  };
  return { result: 'accepted', reason: 'ok', credential, fare: transaction.amount, passages: 1, note: [balanceLine(session.card.balance)], purseData: purse };
}
