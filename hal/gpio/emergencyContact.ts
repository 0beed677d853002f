import type { EmergencyContact, EmergencyContactEvent } from '../emergencyInput.js';
import type { GpioPort, InputLine, InputPinSettings } from './gpioPort.js';

/**
 * The fire-alarm loop on one input. Wired as documented (loop from the pin to
 * GND, pull-up on the pin) a closed loop reads 0 and an open one 1, so the
 * default is `activeLow: false`: active (emergency) = high = loop open or cut.
 */
export interface GpioEmergencySettings {
  input: InputPinSettings;
}

export class GpioEmergencyContact implements EmergencyContact {
  constructor(private readonly line: InputLine) {}

  async start(listener: (event: EmergencyContactEvent) => void): Promise<void> {
    const active = await this.line.start(
      (now) => listener({ type: 'state', active: now }),
      (fault) => listener({ type: 'health', healthy: false, detail: fault.message }),
    );
    listener({ type: 'state', active });
  }

  async stop(): Promise<void> {
    await this.line.release();
  }
}

export async function createGpioEmergencyContact(settings: GpioEmergencySettings, context: { port: GpioPort }): Promise<GpioEmergencyContact> {
  return new GpioEmergencyContact(await context.port.input('emergency', settings.input));
}
