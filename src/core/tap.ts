import type { EmvTapData, Product } from './credentials/credential.js';
import type { PurseTapData } from './credentials/tunion/purseData.js';
import type { Place } from './policy/modeRules.js';
import type { Reason } from './reasons.js';
import type { GateMode } from './settings.js';

export type TapKind = 'card' | 'code' | 'uid' | 'emv' | 'tunion';

/** One tap as the journal keeps it and the fleet receives it (DESIGN.md §4). */
export interface Tap {
  /** UUIDv7; the back office dedupes by it. */
  id: string;
  /** Per gate, strictly increasing, no gaps. */
  seq: number;
  /** ISO-8601 UTC with milliseconds. */
  at: string;
  gate: string;
  site: string;
  mode: GateMode;
  kind: TapKind;
  issuer: string | null;
  subject: string | null;
  category: string | null;
  result: 'accepted' | 'refused';
  reason: Reason;
  /** Minor units (fen), where the mode charges. */
  fare: number | null;
  product: Product | null;
  /** From the presentation (card in the field, code text in hand) to the decision; the commit and then the barrier command follow. */
  latencyMs: number;
  /** Route and stop of a bus, station of a metro gate; null where the mode has none. */
  place: Place | null;
  /** A bank card's claim data (kind `emv`, accepted); null for every other tap. */
  emv: EmvTapData | null;
  /** A T-Union purse tap's purchase, for clearing (kind `tunion`); absent or null for every other tap. */
  purse?: PurseTapData | null;
}

/** What the gate knows of a tap before the journal gives it an id and a seq. */
export type TapDraft = Omit<Tap, 'id' | 'seq' | 'gate' | 'site'>;
