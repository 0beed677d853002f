/**
 * The emergency-release contact: a fire-alarm panel's normally closed loop.
 * An open loop means emergency, so a cut wire or a pulled connector fails
 * towards letting people out. `state` is reported once at start and then on
 * every change. While it is active the gate holds the barrier open and counts
 * every passage (docs/modes.md, "Emergency release").
 */
export type EmergencyContactEvent =
  | { type: 'state'; active: boolean }
  | { type: 'health'; healthy: boolean; detail: string };

export interface EmergencyContact {
  start(listener: (event: EmergencyContactEvent) => void): Promise<void>;
  stop(): Promise<void>;
}
