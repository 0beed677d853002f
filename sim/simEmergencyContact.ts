import type { EmergencyContact, EmergencyContactEvent } from '../hal/emergencyInput.js';

/** The fire-alarm loop of a simulated lane: a test or the sim lane's `#emergency on|off` line flips it. */
export class SimEmergencyContact implements EmergencyContact {
  private listener: ((event: EmergencyContactEvent) => void) | undefined;
  private active = false;

  async start(listener: (event: EmergencyContactEvent) => void): Promise<void> {
    this.listener = listener;
    listener({ type: 'state', active: this.active });
  }

  async stop(): Promise<void> {
    this.listener = undefined;
  }

  set(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    this.listener?.({ type: 'state', active });
  }

  /** A fault on the loop's input, as a GPIO driver would report it. */
  fault(detail: string): void {
    this.listener?.({ type: 'health', healthy: false, detail });
  }
}
