import type { CardApplicationName } from '../src/core/credentials/cardApplication.js';
import { DEFAULT_TUNION_SETTINGS } from '../src/core/credentials/tunion/tunionCard.js';
import type { GateSettings } from '../src/core/settings.js';
import type { CardPresentation } from './devices.js';
import type { Fault, Scenario, ScenarioPassenger } from './scenario.js';
import { TearingCard } from './tunion/tearingCard.js';
import { VirtualPsam } from './tunion/virtualPsam.js';
import { VirtualSamSlot } from './tunion/virtualSamSlot.js';
import { VirtualTunionCard } from './tunion/virtualTunionCard.js';
import type { ApduResponder } from './virtualCard.js';

/*
 * The T-Union purse cards of a scenario's passengers (sim/tunion): one card
 * per number all scenario long, its balance carried from tap to tap, and the
 * virtual PSAM in the gate's SAM slot. Faults are made with the simulated
 * card, never with the gate's code.
 */

export type PurseCardSpec = NonNullable<ScenarioPassenger['purseCard']>;

/** APDUs of a bus purchase before DEBIT (SELECT, file 15, balance, record 1A, INITIALIZE, UPDATE 1E): the 7th is DEBIT. */
const BUS_DEBIT_APDU = 7;
/** A metro purchase writes record 1A too: DEBIT is the 8th. */
const METRO_DEBIT_APDU = 8;

/** The passengers of a scenario who present a purse card. */
export function purseCardsOf(scenario: Pick<Scenario, 'passengers'>): PurseCardSpec[] {
  return scenario.passengers.flatMap((entry) => ('event' in entry || !entry.purseCard ? [] : [entry.purseCard]));
}

/** A gate taking purse cards in a scenario: `tunion` first in its applications, the default T-Union settings unless its gate section gives them. */
export function withPurseCards(settings: GateSettings): GateSettings {
  const applications: CardApplicationName[] = settings.cards ? [...settings.cards.applications] : ['cg', ...(settings.access?.uidCards ? (['uid'] as const) : [])];
  return {
    ...settings,
    cards: { applications: applications.includes('tunion') ? applications : ['tunion', ...applications], deadlineMs: settings.cards?.deadlineMs ?? 1_000 },
    tunion: settings.tunion ?? DEFAULT_TUNION_SETTINGS,
  };
}

export class PurseCards {
  /** The gate's SAM slot, with the virtual PSAM in it. */
  readonly sam = new VirtualSamSlot(new VirtualPsam());
  private readonly cards = new Map<string, VirtualTunionCard>();

  static forScenario(scenario: Pick<Scenario, 'passengers'>): PurseCards | undefined {
    return purseCardsOf(scenario).length > 0 ? new PurseCards() : undefined;
  }

  /** The card with this number (made at its first presentation, with that passenger's balance, type and algorithm). */
  card(spec: PurseCardSpec, fault: Fault | undefined, metro: boolean): { card: ApduResponder; presentation: CardPresentation } {
    let card = this.cards.get(spec.number);
    if (!card) {
      card = new VirtualTunionCard({ cardNumber: spec.number, balance: spec.balance, algorithm: spec.algorithm, cardType: spec.type, ...(fault === 'expired' ? { validUntil: '20250101' } : {}) });
      this.cards.set(spec.number, card);
    }
    if (fault === 'cloned') return { card: new VirtualTunionCard({ ...card.profile, clone: true }), presentation: {} };
    // Pulled as the card answers DEBIT: it has paid, the gate never heard.
    if (fault === 'torn') return { card: new TearingCard(card, metro ? METRO_DEBIT_APDU : BUS_DEBIT_APDU, 'after'), presentation: {} };
    if (fault === 'removed') return { card, presentation: { removeAfterApdus: 3 } };
    return { card, presentation: {} };
  }
}
