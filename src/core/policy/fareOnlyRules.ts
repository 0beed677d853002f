import type { Credential } from '../credentials/credential.js';
import type { GateSettings } from '../settings.js';
import type { Admission, ModeRules, Place } from './modeRules.js';

/** The rules every mode starts from: the fare table by holder category, and the product's entries. */
export class FareOnlyRules implements ModeRules {
  constructor(private readonly settings: GateSettings) {}

  admit(credential: Credential): Admission {
    const fares = this.settings.fares;
    const fare = fares ? (fares.byCategory[credential.category] ?? fares.default) : undefined;
    return { fare, passages: credential.product?.entries ?? 1 };
  }

  record(): void {}

  place(): Place | undefined {
    return undefined;
  }

  live(): Record<string, unknown> {
    return {};
  }
}
