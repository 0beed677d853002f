import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NmeaGps, nmeaGpsOptionsSchema, type NmeaGpsOptions } from '../hal/gps/nmeaGps.js';
import { nmeaChecksum, parseNmea } from '../hal/gps/nmeaParser.js';
import { LocationEvents } from './support/locationEvents.js';
import { PtyPair } from './support/socat.js';
import { cleanupAfterEach } from './support/cleanups.js';

/** A sentence with its checksum, as a receiver sends it. */
function nmea(body: string): string {
  return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}`;
}

describe('NMEA sentences', () => {
  it.each([
    // The NMEA 0183 reference example (Munich), and u-blox receivers' own examples.
    ['$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47', { sentence: 'GGA', talker: 'GP', lat: 48.1173, lon: 11.516667, fixed: true }],
    ['$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A', { sentence: 'RMC', talker: 'GP', lat: 48.1173, lon: 11.516667, fixed: true }],
    ['$GPGGA,092725.00,4717.11399,N,00833.91590,E,1,08,1.01,499.6,M,48.0,M,,*5B', { sentence: 'GGA', talker: 'GP', lat: 47.285233, lon: 8.565265, fixed: true }],
    ['$GPRMC,083559.00,A,4717.11437,N,00833.91522,E,0.004,77.52,091202,,,A*57', { sentence: 'RMC', talker: 'GP', lat: 47.28524, lon: 8.565254, fixed: true }],
    ['$GNRMC,001031.00,A,4404.13993,N,12118.86023,W,0.146,,100117,,,A*7B', { sentence: 'RMC', talker: 'GN', lat: 44.068999, lon: -121.314337, fixed: true }],
    ['$GNGGA,001043.00,4404.14036,N,12118.85961,W,1,12,0.98,1113.0,M,-21.3,M,,*47', { sentence: 'GGA', talker: 'GN', lat: 44.069006, lon: -121.314327, fixed: true }],
    // A BeiDou receiver in Chongqing; then the same with the fix lost (dead reckoning, status V).
    [nmea('BDGGA,080000.00,2933.456,N,10634.620,E,1,09,1.1,250.0,M,-28.0,M,,'), { sentence: 'GGA', talker: 'BD', lat: 29.557600, lon: 106.577, fixed: true }],
    [nmea('GNGGA,080001.00,2933.456,N,10634.620,E,6,00,,250.0,M,-28.0,M,,'), { sentence: 'GGA', talker: 'GN', lat: 29.5576, lon: 106.577, fixed: false }],
    [nmea('GNRMC,080001.00,V,2933.456,N,10634.620,E,,,231126,,,N'), { sentence: 'RMC', talker: 'GN', lat: 29.5576, lon: 106.577, fixed: false }],
    [nmea('GNRMC,080001.00,A,3352.000,S,15112.000,E,,,231126,,,E'), { sentence: 'RMC', talker: 'GN', lat: -33.866667, lon: 151.2, fixed: false }],
  ])('%s', (line, expected) => {
    const parsed = parseNmea(line);
    expect(parsed.kind).toBe('position');
    if (parsed.kind !== 'position') return;
    expect({ ...parsed, lat: round6(parsed.lat), lon: round6(parsed.lon) }).toEqual({ kind: 'position', ...expected, lat: round6(expected.lat), lon: round6(expected.lon) });
  });

  it('tells a receiver without a position, and other sentences, from positions', () => {
    expect(parseNmea('$GPGGA,,,,,,0,00,99.99,,,,,,*48')).toEqual({ kind: 'no-position', sentence: 'GGA', talker: 'GP' });
    expect(parseNmea('$GPRMC,,V,,,,,,,,,,N*53')).toEqual({ kind: 'no-position', sentence: 'RMC', talker: 'GP' });
    expect(parseNmea('$GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00*74')).toEqual({ kind: 'other', sentence: 'GSV', talker: 'GP' });
    expect(parseNmea(nmea('PUBX,00,080000.00,2933.456,N'))).toEqual({ kind: 'other', sentence: 'PUBX', talker: 'P' });
  });

  it.each([
    ['a bad checksum', '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48', /^checksum 48 where the sentence sums to 47 /],
    ['a line cut short', '$GPGGA,123519,4807.038,N,01131.0', /^not an NMEA sentence with a \*hh checksum .*cut short, or the wrong baud rate$/],
    ['the tail of a line', '0.9,545.4,M,46.9,M,,*47', /^a line that does not start with "\$"/],
    ['bytes at the wrong baud rate', '$\u00f8\u0080\u00fe\u00e0\u0018', /^not an NMEA sentence/],
    ['too few GGA fields', nmea('GPGGA,123519,4807.038,N,01131.000,E,1'), /^a GGA sentence with 6 fields, not 14/],
    ['a latitude past the pole', nmea('GPGGA,123519,9107.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,'), /^a GGA latitude "9107.038" is beyond 90 degrees/],
    ['61 minutes', nmea('GPRMC,123519,A,4861.038,N,01131.000,E,022.4,084.4,230394,003.1,W'), /^a RMC latitude "4861.038" has 61.038 minutes/],
    ['a longitude with two degree digits', nmea('GPRMC,123519,A,4807.038,N,1131.000,E,022.4,084.4,230394,003.1,W'), /^a RMC longitude "1131.000" is not dddmm.mmmm/],
    ['a hemisphere that is none', nmea('GPRMC,123519,A,4807.038,X,01131.000,E,022.4,084.4,230394,003.1,W'), /^a RMC latitude hemisphere "X", not N or S/],
    ['an RMC status that is none', nmea('GPRMC,123519,Q,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W'), /^an RMC status "Q", not A or V/],
    ['a line longer than any sentence', `$GPGGA,${'1'.repeat(300)}`, /^a line of 307 characters, longer than any NMEA sentence$/],
  ])('refuses %s, saying why', (_, line, reason) => {
    const parsed = parseNmea(line);
    expect(parsed.kind).toBe('garbage');
    if (parsed.kind === 'garbage') expect(parsed.reason).toMatch(reason);
  });
});

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/*
 * The receiver driver on a real pseudo-terminal pair (socat), as
 * test/serialScanner.test.ts does for scan modules.
 */
let dir: string;
let n = 0;
const defer = cleanupAfterEach();
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-gps-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function wired(options: Partial<NmeaGpsOptions> = {}): Promise<{ pty: PtyPair; events: LocationEvents }> {
  n++;
  const pty = new PtyPair(join(dir, `gate-${n}`), join(dir, `gps-${n}`));
  await pty.plug();
  defer(() => pty.unplug());
  const gps = new NmeaGps(nmeaGpsOptionsSchema.parse({ path: pty.gateSide, reopenMinMs: 50, reopenMaxMs: 400, silenceMs: 60_000, ...options }));
  const events = new LocationEvents();
  await gps.start(events.listener);
  defer(() => gps.stop());
  return { pty, events };
}

const FIX = nmea('GNGGA,080000.00,2933.456,N,10634.620,E,1,09,1.1,250.0,M,-28.0,M,,');
const FIX_RMC = nmea('GNRMC,080001.00,A,2933.500,N,10634.700,E,0.0,,231126,,,A');
const GSV = '$GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00*74';

describe('NMEA receiver over a pty', () => {
  it('reports each GGA and RMC position across split writes, and passes over other sentences', async () => {
    const { pty, events } = await wired({ baudRate: 4800 });
    expect(events.health()).toEqual([{ healthy: true, detail: `listening on ${pty.gateSide} at 4800 8N1` }]);
    pty.send(`${GSV}\r\n${FIX.slice(0, 30)}`);
    pty.send(`${FIX.slice(30)}\r\n${GSV}\r\n${FIX_RMC}\r\n`);
    await events.until((e) => e.places().length >= 2);
    expect(events.places().map((p) => (p.type === 'position' ? [round6(p.lat), round6(p.lon), p.fixed] : p))).toEqual([
      [29.5576, 106.577, true],
      [29.558333, 106.578333, true],
    ]);
    expect(events.health().at(-1)).toEqual({ healthy: true, detail: `receiving NMEA on ${pty.gateSide} at 4800 8N1: fix` });
  });

  it('a receiver without a fix is healthy and says so; its estimated positions are marked unfixed', async () => {
    const { pty, events } = await wired();
    pty.send('$GPGGA,,,,,,0,00,99.99,,,,,,*48\r\n');
    await events.until((e) => e.health().length >= 2);
    expect(events.health()[1]).toEqual({ healthy: true, detail: `receiving NMEA on ${pty.gateSide} at 9600 8N1: no position yet` });
    pty.send(`${nmea('GNRMC,080001.00,V,2933.456,N,10634.620,E,,,231126,,,N')}\r\n`);
    await events.until((e) => e.places().length >= 1);
    expect(events.places()[0]).toMatchObject({ type: 'position', fixed: false });
    expect(events.health().at(-1)!.detail).toMatch(/: no fix$/);
  });

  it('garbage is a health detail naming the reason, never a position; the next good sentence heals', async () => {
    const { pty, events } = await wired();
    pty.send('$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48\r\n');
    pty.send(Buffer.from([0xf8, 0x80, 0xfe, 0x0d, 0x0a]));
    pty.send('x'.repeat(600));
    await events.until((e) => e.health().filter((h) => !h.healthy).length >= 3);
    pty.send(`tail\r\n${FIX}\r\n`);
    await events.until((e) => e.places().length >= 1);
    const bad = events.health().filter((h) => !h.healthy).map((h) => h.detail);
    expect(bad[0]).toMatch(new RegExp(`^discarded checksum 48 where the sentence sums to 47 .* from ${pty.gateSide} at 9600 8N1: check the receiver's baud rate`));
    expect(bad[1]).toMatch(/^discarded a line that does not start with "\$"/);
    expect(bad[2]).toMatch(/^discarded \d+ bytes without an end of line/);
    expect(events.places()).toHaveLength(1);
    expect(events.health().at(-1)).toMatchObject({ healthy: true });
  });

  it('a receiver that goes quiet is unhealthy until it speaks again', async () => {
    const { pty, events } = await wired({ silenceMs: 300 });
    pty.send(`${FIX}\r\n`);
    await events.until((e) => e.health().some((h) => !h.healthy));
    expect(events.health().at(-1)).toEqual({ healthy: false, detail: `no valid NMEA sentence for 300 ms on ${pty.gateSide} at 9600 8N1: check the receiver's power, wiring and baud rate` });
    pty.send(`${FIX}\r\n`);
    await events.until((e) => e.health().at(-1)!.healthy);
    expect(events.places()).toHaveLength(2);
  });

  it('survives unplug and replug', async () => {
    const { pty, events } = await wired();
    pty.send(`${FIX}\r\n`);
    await events.until((e) => e.places().length >= 1);
    await pty.unplug();
    await events.until((e) => e.health().filter((h) => !h.healthy).length >= 2);
    const gone = events.health().filter((h) => !h.healthy).map((h) => h.detail);
    expect(gone[0]).toBe(`${pty.gateSide} was unplugged; reopening in 50 ms`);
    expect(gone[1]).toMatch(new RegExp(`^cannot open ${pty.gateSide} at 9600 8N1: .*; reopening in 100 ms$`));
    await pty.plug();
    await events.until((e) => e.health().at(-1)!.healthy);
    pty.send(`${FIX_RMC}\r\n`);
    await events.until((e) => e.places().length >= 2);
  });
});
