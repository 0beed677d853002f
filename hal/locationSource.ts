/**
 * Where a bus is: a GPS receiver's fixes, or the route and stop a driver
 * console or the vehicle's own system announces. The gate turns positions
 * into stops with its stop table (src/core/policy/stopLocator.ts).
 */
export type LocationEvent =
  /** `fixed`: the receiver has a satellite fix; without one its coordinates are a last known or estimated position. */
  | { type: 'position'; lat: number; lon: number; fixed: boolean }
  | { type: 'stop'; stop: string; route?: string }
  | { type: 'route'; route: string }
  | { type: 'health'; healthy: boolean; detail: string };

export interface LocationSource {
  start(listener: (event: LocationEvent) => void): Promise<void>;
  stop(): Promise<void>;
}

/** A route or stop id as sources and config carry it: letters (any script), digits, `.`, `_`, `-`; 1 to 32 characters. */
export const PLACE_ID = /^[\p{L}\p{N}._-]{1,32}$/u;
export const PLACE_ID_RULE = 'letters, digits, ".", "_" or "-", 1 to 32 characters';
