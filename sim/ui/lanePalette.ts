import type { Scenario, ScenarioEvent, ScenarioPassenger } from '../scenario.js';
import { timelineOf } from '../scenarioRunner.js';
import type { LanePassenger } from './liveLane.js';

/** What a button of the page presents: a passenger of the scenario file, in its time order. */
export interface PaletteButton {
  index: number;
  name: string;
  /** What the passenger holds: `card`, `code`, `bank card`, `transport code`, `UID badge`, `text`, `again`, `nothing`. */
  kind: string;
  /** Issuer, number or account, category, fault: enough to tell two buttons apart. */
  detail: string;
  expect: string | null;
}

export interface PaletteEvent {
  index: number;
  name: string;
  label: string;
}

export type LaneEvent = ScenarioEvent & { name: string; at: number };

export interface Palette {
  passengers: { button: PaletteButton; passenger: LanePassenger }[];
  events: { button: PaletteEvent; event: LaneEvent }[];
}

/** ` (a, b)` of the notes given, or nothing. */
function notes(...parts: (string | false | undefined)[]): string {
  const kept = parts.filter((part): part is string => typeof part === 'string' && part !== '');
  return kept.length ? ` (${kept.join(', ')})` : '';
}

function kindOf(p: ScenarioPassenger): { kind: string; detail: string } {
  const twice = p.double && 'twice';
  if (p.card) return { kind: 'card', detail: `${p.card.issuer} ${p.card.number}${notes(p.card.category, p.fault, twice)}` };
  if (p.bankCard) return { kind: 'bank card', detail: `${p.bankCard.algorithm} ${p.bankCard.pan}${notes(p.fault, twice)}` };
  if (p.transport) return { kind: 'transport code', detail: `${p.transport.account}${notes(p.transport.category, `0x${p.transport.version}`, p.fault, twice)}` };
  if (p.uid !== undefined) return { kind: 'UID badge', detail: p.uid };
  if (p.code) return { kind: 'code', detail: `${p.code.issuer} ${p.code.account}${notes(p.code.category, p.code.profile, p.fault, twice)}` };
  if (p.text !== undefined) return { kind: 'text', detail: p.text.length > 40 ? `${p.text.slice(0, 40)}…` : p.text };
  if (p.again !== undefined) return { kind: 'again', detail: `what "${p.again}" presented${notes(twice)}` };
  const people = p.walk === true ? 1 : Number(p.walk);
  return { kind: 'nothing', detail: `${people === 1 ? 'someone walks' : `${people} people walk`} through without presenting anything` };
}

function labelOf(event: ScenarioEvent): string {
  if (event.event === 'set-mode') return `mode → ${event.mode}`;
  if (event.event === 'stop') return `bus at ${event.stop}${event.route !== undefined ? ` (route ${event.route})` : ''}`;
  return `emergency ${event.on ? 'on' : 'off'} by ${event.by}`;
}

/** The scenario file's own passengers and events (not its crowd), as buttons. */
export function paletteOf(scenario: Scenario): Palette {
  const palette: Palette = { passengers: [], events: [] };
  for (const entry of timelineOf(scenario).slice(0, scenario.passengers.length)) {
    if ('event' in entry) {
      const { name } = entry;
      palette.events.push({ button: { index: palette.events.length, name, label: labelOf(entry) }, event: entry });
    } else {
      palette.passengers.push({ button: { index: palette.passengers.length, name: entry.name, ...kindOf(entry), expect: entry.expect ?? null }, passenger: entry });
    }
  }
  return palette;
}
