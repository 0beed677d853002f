import type { LocationEvent } from '../../../hal/locationSource.js';
import { BusRules, type LocationUpdate } from './busRules.js';
import type { ModeRules } from './modeRules.js';

/**
 * A location source's report applied to the bus rules: a route, a stop, or a
 * GPS position placed in the stop table. `rules` is what the decider has for
 * mode `bus` (kept while the gate is in another mode); without a `gate.bus`
 * section there is nothing to place.
 */
export function applyLocation(event: Exclude<LocationEvent, { type: 'health' }>, rules: ModeRules): LocationUpdate {
  if (!(rules instanceof BusRules)) return { applied: false, why: 'no gate.bus section: the bus mode has no route or stop to set' };
  switch (event.type) {
    case 'route':
      return rules.setRoute(event.route);
    case 'stop': {
      if (event.route !== undefined) rules.setRoute(event.route);
      return rules.setStop(event.stop);
    }
    case 'position':
      return rules.atPosition(event);
  }
}
