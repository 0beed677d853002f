/** One stop of the operator's stop table: WGS-84 degrees, as a GPS receiver reports them. */
export interface BusStop {
  id: string;
  name: string;
  lat: number;
  lon: number;
}

export interface StopLocatorSettings {
  stops: readonly BusStop[];
  /** A fix this close to a stop is at the stop. */
  radiusM: number;
  /** How much nearer another stop must be before the bus is taken to be there instead (GPS wanders by several metres). */
  hysteresisM: number;
}

const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance in metres (haversine). */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * The stop a bus is at, from its GPS fixes: the nearest stop within the
 * radius. Between stops the bus keeps the last stop it was at (a passenger
 * boarding late is recorded at the stop the bus left). Where two stops are
 * close, a bus waiting between them stays at the one it reached first until
 * the other is nearer by more than the hysteresis.
 */
export class StopLocator {
  private current: BusStop | undefined;

  constructor(private readonly settings: StopLocatorSettings) {}

  /** The stop after this fix, or undefined while the bus has been at none. */
  locate(position: { lat: number; lon: number }): string | undefined {
    let nearest: { stop: BusStop; distance: number } | undefined;
    for (const stop of this.settings.stops) {
      const distance = distanceM(position, stop);
      if (distance <= this.settings.radiusM && (!nearest || distance < nearest.distance)) nearest = { stop, distance };
    }
    if (nearest && nearest.stop !== this.current) {
      const fromCurrent = this.current ? distanceM(position, this.current) : Infinity;
      if (fromCurrent - nearest.distance > this.settings.hysteresisM) this.current = nearest.stop;
    }
    return this.current?.id;
  }

  /** A stop set by other means (a driver console): hysteresis counts from it. */
  setCurrent(id: string | undefined): void {
    this.current = this.settings.stops.find((s) => s.id === id);
  }

  has(id: string): boolean {
    return this.settings.stops.some((s) => s.id === id);
  }
}
