import type { DriverRegistry } from '../src/app/boardBuilder.js';

/**
 * Every driver a config file may name: the real board's, and the simulated
 * lane's (`sim`). The composition root is the one place that may join them,
 * since src/ never imports sim/.
 */
export async function driverRegistry(): Promise<DriverRegistry> {
  const { createHalDrivers } = await import('../src/app/halDrivers.js');
  const { createSimDrivers } = await import('../sim/liveDrivers.js');
  const hal = createHalDrivers();
  const sim = createSimDrivers();
  return {
    readers: hal.readers,
    scanners: { ...hal.scanners, ...sim.scanners },
    barrier: { ...hal.barrier, ...sim.barrier },
    passage: { ...hal.passage, ...sim.passage },
    indicators: { ...hal.indicators, ...sim.indicators },
    display: { ...hal.display, ...sim.display },
    clock: { ...hal.clock, ...sim.clock },
    emergency: { ...hal.emergency, ...sim.emergency },
    location: hal.location,
    speaker: { ...hal.speaker, ...sim.speaker },
    sam: hal.sam,
  };
}
