import { describe, expect, it } from 'vitest';
import { distanceM, StopLocator, type BusStop } from '../src/core/policy/stopLocator.js';

/** A point `east` and `north` metres from `origin` (locally flat: good to well under a metre over these distances). */
function offset(origin: { lat: number; lon: number }, east: number, north: number): { lat: number; lon: number } {
  const metresPerDegree = (Math.PI / 180) * 6_371_008.8;
  return { lat: origin.lat + north / metresPerDegree, lon: origin.lon + east / (metresPerDegree * Math.cos((origin.lat * Math.PI) / 180)) };
}

const JFB = { lat: 29.5576, lon: 106.577 };
/** Two stops 60 m apart on the same street, and one a kilometre north. */
const STOPS: BusStop[] = [
  { id: 'S1', name: '解放碑', ...JFB },
  { id: 'S2', name: '解放碑东', ...offset(JFB, 60, 0) },
  { id: 'S3', name: '小什字', ...offset(JFB, 0, 1000) },
];

function locator(): StopLocator {
  return new StopLocator({ stops: STOPS, radiusM: 50, hysteresisM: 15 });
}

describe('stop locator', () => {
  it('measures distances on the globe', () => {
    expect(distanceM(JFB, offset(JFB, 0, 1000))).toBeCloseTo(1000, 0);
    expect(distanceM(JFB, offset(JFB, 60, 0))).toBeCloseTo(60, 0);
    // Chongqing to Chengdu, about 266 km as the crow flies.
    expect(distanceM(JFB, { lat: 30.6586, lon: 104.0647 }) / 1000).toBeCloseTo(266, -1);
  });

  it('is at no stop until a fix comes within the radius, then keeps the last stop between stops', () => {
    const l = locator();
    expect(l.locate(offset(JFB, 0, 500))).toBeUndefined();
    expect(l.locate(offset(STOPS[2]!, 0, -51))).toBeUndefined();
    expect(l.locate(offset(STOPS[2]!, 0, -49))).toBe('S3');
    expect(l.locate(offset(JFB, 0, 500))).toBe('S3');
    expect(l.locate(offset(JFB, -10, 5))).toBe('S1');
  });

  it('a bus waiting between two close stops does not flip with GPS wander', () => {
    const l = locator();
    expect(l.locate(offset(JFB, 5, 0))).toBe('S1');
    // Midway (30 m from each) and wandering by several metres around it.
    for (const [east, north] of [[30, 0], [34, 3], [26, -4], [37, 1], [29, 6], [36, -2]] as const) {
      expect(l.locate(offset(JFB, east, north))).toBe('S1');
    }
    // Pulled up at S2: nearer to it by more than the hysteresis.
    expect(l.locate(offset(JFB, 58, 0))).toBe('S2');
    for (const [east, north] of [[30, 0], [24, 3], [33, -4], [23, 1]] as const) {
      expect(l.locate(offset(JFB, east, north))).toBe('S2');
    }
  });

  it('changes stop once the other is nearer by more than the hysteresis', () => {
    const l = locator();
    expect(l.locate(offset(JFB, 0, 0))).toBe('S1');
    // 35 m from S1, 25 m from S2: 10 m nearer, not enough.
    expect(l.locate(offset(JFB, 35, 0))).toBe('S1');
    // 40 m from S1, 20 m from S2: 20 m nearer.
    expect(l.locate(offset(JFB, 40, 0))).toBe('S2');
  });

  it('counts hysteresis from a stop set by other means, and ignores unknown ones', () => {
    const l = locator();
    l.setCurrent('S2');
    expect(l.locate(offset(JFB, 25, 0))).toBe('S2');
    l.setCurrent('S9');
    expect(l.locate(offset(JFB, 25, 0))).toBe('S1');
    expect(l.has('S3')).toBe(true);
    expect(l.has('S9')).toBe(false);
  });
});
