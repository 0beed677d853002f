import type { Barrier } from './barrier.js';
import type { CardReader } from './cardReader.js';
import type { Clock } from './clock.js';
import type { CodeScanner } from './codeScanner.js';
import type { Display } from './display.js';
import type { EmergencyContact } from './emergencyInput.js';
import type { Indicators } from './indicators.js';
import type { PassageSensor } from './passageSensor.js';
import type { SamSlot } from './samSlot.js';
import type { Speaker } from './speaker.js';

/** Everything the gate core may touch: the real board or the simulated one. */
export interface Board {
  readers: CardReader[];
  scanners: CodeScanner[];
  barrier: Barrier;
  passage: PassageSensor;
  indicators: Indicators;
  display: Display;
  clock: Clock;
  /** The fire-alarm contact, where one is wired. */
  emergency?: EmergencyContact;
  /** Voice prompts, where a speaker is fitted. */
  speaker?: Speaker;
  /** The PSAM slot, where the gate debits T-Union purse cards. */
  sam?: SamSlot;
}
