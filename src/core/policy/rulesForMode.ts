import type { GateMode, GateSettings } from '../settings.js';
import { AccessRules, NO_ACCESS } from './accessRules.js';
import { BusRules } from './busRules.js';
import { FareOnlyRules } from './fareOnlyRules.js';
import { MetroRules } from './metroRules.js';
import type { ModeRules } from './modeRules.js';
import { VenueRules } from './venueRules.js';

/** The rules of a mode, built from the gate's settings. */
export function rulesForMode(mode: GateMode, settings: GateSettings): ModeRules {
  switch (mode) {
    // A mode set by command on a gate whose config lacks its section: the fare table alone.
    case 'bus':
      return settings.bus ? new BusRules(settings.bus, settings) : new FareOnlyRules(settings);
    case 'metro-entry':
    case 'metro-exit':
      return settings.metro ? new MetroRules(mode === 'metro-entry' ? 'entry' : 'exit', settings.metro, settings) : new FareOnlyRules(settings);
    case 'venue':
      return new VenueRules(settings, settings.venue);
    case 'access':
      return new AccessRules(settings, settings.access ?? NO_ACCESS);
  }
}
