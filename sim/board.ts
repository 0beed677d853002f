import type { Board } from '../hal/board.js';
import { SimBarrier, SimCardReader, SimCodeScanner, SimDisplay, SimIndicators, SimPassageSensor } from './devices.js';
import { VirtualClock } from './virtualClock.js';

/** The simulated board: the HAL interfaces, plus handles a scenario or test drives them by. */
export interface SimBoard extends Board {
  reader: SimCardReader;
  scanner: SimCodeScanner;
  barrier: SimBarrier;
  passage: SimPassageSensor;
  indicators: SimIndicators;
  display: SimDisplay;
  clock: VirtualClock;
}

export function createSimBoard(startWallMs: number): SimBoard {
  const clock = new VirtualClock(startWallMs);
  const reader = new SimCardReader();
  const scanner = new SimCodeScanner();
  return {
    reader,
    scanner,
    readers: [reader],
    scanners: [scanner],
    barrier: new SimBarrier(clock),
    passage: new SimPassageSensor(),
    indicators: new SimIndicators(),
    display: new SimDisplay(),
    clock,
  };
}
