import type { PromptId } from '../hal/speaker.js';
import { assembleGate, type AssembledGate } from '../src/app/assemble.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import type { Log } from '../src/core/log.js';
import { applyLocation } from '../src/core/policy/busLocation.js';
import type { GateSettings } from '../src/core/settings.js';
import { createSimBoard, type SimBoard } from './board.js';
import type { CardPresentation } from './devices.js';
import { TestIssuer, trustListOf } from './issuer.js';
import type { Scenario, ScenarioEvent, ScenarioPassenger } from './scenario.js';
import { BankCards, withBankCards } from './scenarioBankCards.js';
import { PurseCards, withPurseCards } from './scenarioPurseCards.js';
import { TransportCodes } from './scenarioTransport.js';
import { SimEmergencyContact } from './simEmergencyContact.js';
import { SimSpeaker } from './simSpeaker.js';
import { UidCard } from './uidCard.js';
import type { ApduResponder } from './virtualCard.js';
import { Wallets } from './wallets.js';

/*
 * A scenario's gate on the simulated board and the passengers' credentials,
 * built one way for `citygate sim` (scenarioRunner.ts) and the lane in a
 * browser (ui/liveLane.ts), so that the two cannot drift apart.
 */

/** What one passenger holds out to the gate. */
export type Presented = { kind: 'card'; card: ApduResponder; presentation: CardPresentation } | { kind: 'code'; text: string } | { kind: 'binary'; bytes: Uint8Array } | { kind: 'sneak' };

export interface ScenarioLane extends AssembledGate {
  board: SimBoard & { emergency: SimEmergencyContact; speaker: SimSpeaker };
  settings: GateSettings;
  wallets: Wallets;
  bankCards: BankCards | undefined;
  transportCodes: TransportCodes | undefined;
  purseCards: PurseCards | undefined;
}

/**
 * The scenario's test issuers trusted, its bank-card CAs, transport root and
 * virtual PSAM, its deny list, the clock at its start, and the gate
 * assembled by the daemon's own wiring.
 */
export async function scenarioLane(scenario: Scenario, options: { journalPath: string; log: Log; onSay: (prompt: PromptId) => void }): Promise<ScenarioLane> {
  const startWall = Date.parse(scenario.start);
  const startSec = Math.floor(startWall / 1000);
  const board = { ...createSimBoard(startWall), emergency: new SimEmergencyContact(), speaker: new SimSpeaker(options.onSay) };
  const issuers = scenario.issuers.map((i) => new TestIssuer(i.id, i.alg));
  const own = trustListOf(issuers);
  // Transport-code passengers: a test root and issuer, in the gate's trust list.
  const transportCodes = TransportCodes.forScenario(scenario, startSec);
  const transport = transportCodes?.trust() ?? scenario.trust?.transport;
  const trust = TrustStore.fromDocument({ issuers: [...own.issuers, ...(scenario.trust?.issuers ?? [])], fleet: scenario.trust?.fleet ?? [], ...(transport ? { transport } : {}) });
  // Bank-card passengers: test CAs and a token key for the gate, which then takes QuickPass cards.
  const bankCards = BankCards.forScenario(scenario, startSec);
  await bankCards?.warmUp(trust, startWall);
  const withBank = bankCards ? withBankCards(scenario.gate) : scenario.gate;
  // Purse-card passengers: the gate takes T-Union cards, a virtual PSAM in its SAM slot.
  const purseCards = PurseCards.forScenario(scenario);
  if (purseCards) board.sam = purseCards.sam;
  const settings = purseCards ? withPurseCards(withBank) : withBank;
  const denied = transportCodes ? transportCodes.denyList(scenario.denyList) : scenario.denyList;
  const denyList = MemoryDenyList.fromDocument(bankCards ? bankCards.denyList(denied) : denied);
  const assembled = assembleGate({ board, settings: { ...settings, site: settings.site! }, trust, bank: bankCards?.keys, denyList, journalPath: options.journalPath, log: options.log });
  return { ...assembled, board, settings, wallets: new Wallets(issuers, startSec), bankCards, transportCodes, purseCards };
}

/**
 * What passenger `p` presents at `nowSec`; `presented` holds what earlier
 * passengers presented (for `again`). A passenger with nothing to present slips through.
 */
export function presentationOf(lane: ScenarioLane, p: ScenarioPassenger, nowSec: number, presented: ReadonlyMap<string, Presented>): Presented {
  const { wallets, bankCards, transportCodes, purseCards } = lane;
  if (p.card) return { kind: 'card', ...wallets.card(p.card, p.fault, nowSec) };
  if (p.bankCard) return { kind: 'card', ...bankCards!.card(p.bankCard, p.fault, nowSec) };
  if (p.purseCard) return { kind: 'card', ...purseCards!.card(p.purseCard, p.fault, lane.gate.mode() !== 'bus') };
  if (p.transport) return { kind: 'binary', bytes: transportCodes!.code(p.transport, p.fault, nowSec) };
  if (p.uid !== undefined) return { kind: 'card', card: new UidCard(p.uid), presentation: {} };
  if (p.code) return { kind: 'code', text: wallets.code(p.code, p.fault, nowSec) };
  if (p.text !== undefined) return { kind: 'code', text: p.text };
  if (p.again !== undefined) {
    const earlier = presented.get(p.again);
    if (!earlier) throw new Error(`scenario: passenger "again": ${p.again} names no earlier passenger`);
    return earlier;
  }
  return { kind: 'sneak' };
}

/** Apply an event as the gate's own inputs would: what the gate refused of it, or undefined. */
export async function applyScenarioEvent(lane: ScenarioLane, event: ScenarioEvent): Promise<string | undefined> {
  const { gate, decider, board } = lane;
  let problem: string | undefined;
  if (event.event === 'set-mode') gate.setMode(event.mode);
  else if (event.event === 'stop') {
    const update = applyLocation({ type: 'stop', stop: event.stop, ...(event.route !== undefined ? { route: event.route } : {}) }, decider.modeRules('bus'));
    if (!update.applied) problem = `stop ${event.stop} not taken: ${update.why}`;
  } else if (event.by === 'contact') board.emergency.set(event.on);
  else {
    try {
      gate.commandEmergency(event.on);
    } catch (error) {
      problem = `emergency command refused: ${(error as Error).message}`;
    }
  }
  await gate.settled();
  return problem;
}
