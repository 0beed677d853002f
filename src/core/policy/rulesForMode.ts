import type { GateMode, GateSettings } from '../settings.js';
import { FareOnlyRules } from './fareOnlyRules.js';
import type { ModeRules } from './modeRules.js';

/** The rules of a mode, built from the gate's settings. */
export function rulesForMode(mode: GateMode, settings: GateSettings): ModeRules {
  switch (mode) {
    case 'bus':
    case 'metro-entry':
    case 'metro-exit':
    case 'venue':
    case 'access':
      return new FareOnlyRules(settings);
  }
}
