/**
 * The barrier (flaps, tripod turnstile or boom) behind relay outputs. Commands
 * resolve once the driver has set its outputs, not when the mechanism has moved.
 */
export type BarrierState = 'open' | 'closed';

export interface Barrier {
  open(): Promise<void>;
  close(): Promise<void>;
  state(): BarrierState;
}
