import type { Display } from '../../hal/display.js';
import type { Indicators } from '../../hal/indicators.js';
import type { PassageSensor } from '../../hal/passageSensor.js';

/*
 * Stand-ins for optional devices that are not fitted or failed to start: the
 * gate goes on without them (the barrier then closes on its open timeout),
 * and the status names the missing device.
 */
export const absentDisplay: Display = { show: async () => undefined };
export const absentIndicators: Indicators = { light: async () => undefined, tone: async () => undefined };
export const absentPassage: PassageSensor = { start: async () => undefined, stop: async () => undefined };
