/**
 * NMEA 0183 sentences from a GPS / BeiDou receiver, validated: `$`, talker and
 * sentence type, comma-separated fields, `*` and the XOR checksum in hex. Only
 * GGA and RMC carry what the gate needs (a position and whether it is a fix);
 * other valid sentences (GSV, GSA, VTG, TXT ...) are recognised and passed over.
 */
export type NmeaSentence =
  | { kind: 'position'; sentence: 'GGA' | 'RMC'; talker: string; lat: number; lon: number; fixed: boolean }
  /** The receiver has no position at all yet: the coordinate fields are empty. */
  | { kind: 'no-position'; sentence: 'GGA' | 'RMC'; talker: string }
  | { kind: 'other'; sentence: string; talker: string }
  | { kind: 'garbage'; reason: string };

/** The standard's limit is 82 characters with CR LF; receivers' proprietary sentences run longer, never this long. */
export const NMEA_MAX_LINE = 256;

const FRAME = /^\$([A-Z][A-Z0-9]{3,9}),([\x20-\x7e]*)\*([0-9A-Fa-f]{2})$/;
const NUMBER = /^\d+(\.\d+)?$/;

export function nmeaChecksum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum;
}

/** One line as received, CR and LF already removed. */
export function parseNmea(line: string): NmeaSentence {
  if (line.length > NMEA_MAX_LINE) return { kind: 'garbage', reason: `a line of ${line.length} characters, longer than any NMEA sentence` };
  if (!line.startsWith('$')) return { kind: 'garbage', reason: `a line that does not start with "$" (${preview(line)})` };
  const frame = FRAME.exec(line);
  if (!frame) return { kind: 'garbage', reason: `not an NMEA sentence with a *hh checksum (${preview(line)}): cut short, or the wrong baud rate` };
  const [, address, fields, sent] = frame as unknown as [string, string, string, string];
  const computed = nmeaChecksum(`${address},${fields}`);
  if (computed !== parseInt(sent, 16)) return { kind: 'garbage', reason: `checksum ${sent.toUpperCase()} where the sentence sums to ${hex(computed)} (${preview(line)})` };
  // Proprietary sentences ($P...) have a maker code, not a talker.
  const talker = address.startsWith('P') ? 'P' : address.slice(0, 2);
  const sentence = address.startsWith('P') ? address : address.slice(2);
  const values = fields.split(',');
  if (sentence === 'GGA') return gga(talker, values, line);
  if (sentence === 'RMC') return rmc(talker, values, line);
  return { kind: 'other', sentence, talker };
}

/** GGA: time, lat, N/S, lon, E/W, fix quality (0 none, 1 GPS, 2 DGPS, 4 RTK, 5 float RTK, 6 dead reckoning), ... */
function gga(talker: string, f: string[], line: string): NmeaSentence {
  if (f.length < 14) return { kind: 'garbage', reason: `a GGA sentence with ${f.length} fields, not 14 (${preview(line)})` };
  const quality = f[5]!;
  if (!/^\d$/.test(quality)) return { kind: 'garbage', reason: `a GGA fix quality ${JSON.stringify(quality)}, not a digit (${preview(line)})` };
  // Dead reckoning (6) is the receiver's guess, not a fix.
  return position('GGA', talker, f.slice(1, 5), ['1', '2', '3', '4', '5'].includes(quality), line);
}

/** RMC: time, status (A valid, V void), lat, N/S, lon, E/W, speed, course, date, ... */
function rmc(talker: string, f: string[], line: string): NmeaSentence {
  if (f.length < 11) return { kind: 'garbage', reason: `an RMC sentence with ${f.length} fields, fewer than 11 (${preview(line)})` };
  const status = f[1]!;
  if (status !== 'A' && status !== 'V') return { kind: 'garbage', reason: `an RMC status ${JSON.stringify(status)}, not A or V (${preview(line)})` };
  // NMEA 2.3 adds a mode indicator: N (not valid) and E (estimated) are no fix even when the status says A.
  const mode = f[11];
  const fixed = status === 'A' && mode !== 'N' && mode !== 'E';
  return position('RMC', talker, f.slice(2, 6), fixed, line);
}

function position(sentence: 'GGA' | 'RMC', talker: string, [lat, ns, lon, ew]: string[], fixed: boolean, line: string): NmeaSentence {
  if (lat === '' && ns === '' && lon === '' && ew === '') return { kind: 'no-position', sentence, talker };
  const latitude = coordinate(lat!, ns!, 2, 'N', 'S', 90);
  const longitude = coordinate(lon!, ew!, 3, 'E', 'W', 180);
  if (typeof latitude === 'string') return { kind: 'garbage', reason: `a ${sentence} latitude ${latitude} (${preview(line)})` };
  if (typeof longitude === 'string') return { kind: 'garbage', reason: `a ${sentence} longitude ${longitude} (${preview(line)})` };
  return { kind: 'position', sentence, talker, lat: latitude, lon: longitude, fixed };
}

/** `ddmm.mmmm` / `dddmm.mmmm` and a hemisphere letter to signed decimal degrees; a string says what is wrong. */
function coordinate(text: string, hemisphere: string, degreeDigits: number, positive: string, negative: string, limit: number): number | string {
  if (!NUMBER.test(text) || text.split('.')[0]!.length !== degreeDigits + 2) return `${JSON.stringify(text)} is not ${'d'.repeat(degreeDigits)}mm.mmmm`;
  if (hemisphere !== positive && hemisphere !== negative) return `hemisphere ${JSON.stringify(hemisphere)}, not ${positive} or ${negative}`;
  const degrees = Number(text.slice(0, degreeDigits));
  const minutes = Number(text.slice(degreeDigits));
  if (minutes >= 60) return `${JSON.stringify(text)} has ${minutes} minutes`;
  const value = degrees + minutes / 60;
  if (value > limit) return `${JSON.stringify(text)} is beyond ${limit} degrees`;
  return hemisphere === negative ? -value : value;
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** Enough of a bad line for a technician to recognise it, without flooding the log. */
function preview(line: string): string {
  const shown = line.length > 40 ? `${line.slice(0, 40)}...` : line;
  return JSON.stringify(shown);
}
