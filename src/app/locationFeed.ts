import type { LocationSource } from '../../hal/locationSource.js';
import type { Decider } from '../core/decider.js';
import type { Gate } from '../core/gate.js';
import type { Log } from '../core/log.js';
import { applyLocation } from '../core/policy/busLocation.js';

/**
 * Feed the bus's location sources (GPS, driver console) into the bus rules,
 * so every tap carries the current route and stop. Positions arrive every
 * second: only a change of stop is logged. Returns how to stop the sources.
 */
export async function feedLocations(sources: readonly LocationSource[], decider: Decider, gate: Gate, log: Log): Promise<() => Promise<void>> {
  for (const [i, source] of sources.entries()) {
    const device = `location:${i}`;
    await source.start((event) => {
      if (event.type === 'health') {
        gate.reportDevice(device, event.healthy, event.detail);
        return;
      }
      const update = applyLocation(event, decider.modeRules('bus'));
      if (update.applied) log.info({ device, place: update.place }, 'bus location');
      else if (event.type !== 'position') log.warn({ device, event, why: update.why }, 'location ignored');
    });
  }
  return async () => {
    for (const source of sources) await source.stop();
  };
}
