/**
 * The emergency-release contact: a fire-alarm panel's normally closed loop.
 * An open loop means emergency, so a cut wire or a pulled connector fails
 * towards letting people out. `state` is reported once at start and then on
 * every change. The gate core does not listen to it yet (issue 5 makes an
 * active contact hold the barrier open and stop refusing); until then a board
 * may start it only to publish its state.
 */
export type EmergencyContactEvent =
  | { type: 'state'; active: boolean }
  | { type: 'health'; healthy: boolean; detail: string };

export interface EmergencyContact {
  start(listener: (event: EmergencyContactEvent) => void): Promise<void>;
  stop(): Promise<void>;
}
