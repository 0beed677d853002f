import type { Barrier } from './barrier.js';
import type { CardReader } from './cardReader.js';
import type { Clock } from './clock.js';
import type { CodeScanner } from './codeScanner.js';
import type { Display } from './display.js';
import type { Indicators } from './indicators.js';
import type { PassageSensor } from './passageSensor.js';

/** Everything the gate core may touch: the real board or the simulated one. */
export interface Board {
  readers: CardReader[];
  scanners: CodeScanner[];
  barrier: Barrier;
  passage: PassageSensor;
  indicators: Indicators;
  display: Display;
  clock: Clock;
}
