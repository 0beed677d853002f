import fc from 'fast-check';
import { parseConsoleLine } from '../../hal/busConsole.js';
import { nmeaChecksum, parseNmea } from '../../hal/gps/nmeaParser.js';
import { PLACE_ID } from '../../hal/locationSource.js';
import { parseScannedLine, QR_MAX_CHARS } from '../../hal/serialScanner.js';
import { CODE_SEEDS } from './codeSeeds.js';
import { charOf, mutatedBytes, mutatedText } from './mutators.js';
import { acceptedUnless, hex, jsonText, reasonKey, refused, type FuzzTarget, type Outcome } from './target.js';

/*
 * Lines from serial devices, after the line framing: NMEA sentences from a
 * GPS receiver, the driver console's commands, a scan module's code lines.
 * Each parser names what a line is, or says why it is garbage.
 */

function sentence(body: string): string {
  return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}`;
}

const NMEA_BODIES = [
  'GPGGA,081530.00,2933.1234,N,10633.5678,E,1,08,0.9,245.3,M,-26.1,M,,',
  'GNRMC,081530.00,A,2933.1234,N,10633.5678,E,0.5,54.7,150127,,,A',
  'GPRMC,081530.00,V,,,,,,,150127,,,N',
  'GPGGA,081530.00,,,,,0,00,99.9,,,,,,',
  'GPGSV,3,1,12,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45',
  'PUBX,00,081530.00,2933.1234,N,10633.5678,E',
  'BDGGA,000000.00,8959.9999,S,17959.9999,W,6,04,2.0,0.0,M,0.0,M,,',
];

/** A line whose checksum is recomputed after the body was edited, so that the edit reaches the field parsing. */
const resummed = mutatedText(NMEA_BODIES, charOf('0123456789.,NSEWAV-')).map((m) => sentence(m.value));

function positionProblem(lat: number, lon: number): string | undefined {
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return `position ${lat}, ${lon} accepted`;
  return undefined;
}

export function nmeaTarget(): FuzzTarget<string> {
  const seeds = NMEA_BODIES.map(sentence);
  return {
    name: 'nmea',
    weight: 2,
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: resummed },
      { weight: 2, arbitrary: mutatedText(seeds, charOf('$*0123456789ABCDEF.,NSEWAV')).map((m) => m.value) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
      { weight: 1, arbitrary: fc.string({ unit: charOf('$GPGAMC,.*0123456789NSEW'), maxLength: 90 }) },
    ),
    run: (line): Outcome => {
      const parsed = parseNmea(line);
      if (parsed.kind === 'garbage') return refused(reasonKey(parsed.reason.split(' (')[0]!));
      const problem = parsed.kind === 'position' ? positionProblem(parsed.lat, parsed.lon) : undefined;
      return acceptedUnless(problem);
    },
    ...jsonText,
  };
}

const CONSOLE_LINES = ['ROUTE 12', 'STOP jiefangbei-3', 'stop\tS_04', 'Route  K.2-express', '  STOP 站台一  '].map((l) => Uint8Array.from(Buffer.from(l, 'utf8')));

export function busConsoleTarget(): FuzzTarget<Uint8Array> {
  return {
    name: 'bus-console',
    weight: 1,
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: mutatedBytes(CONSOLE_LINES).map((m) => m.value) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 140 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => Uint8Array.from(Buffer.from(s, 'utf8'))) },
    ),
    run: (line): Outcome => {
      const command = parseConsoleLine(Buffer.from(line));
      if (command.kind === 'garbage') return refused(reasonKey(command.reason).replace(/^(ROUTE |STOP )?"…": /, ''));
      const id = command.kind === 'route' ? command.route : command.stop;
      return acceptedUnless(PLACE_ID.test(id) ? undefined : `${command.kind} ${JSON.stringify(id)} accepted, not a place id`);
    },
    ...hex,
  };
}

interface ScannerInput {
  line: Uint8Array;
  prefix: string;
  suffix: string;
}

export function scannerLineTarget(): FuzzTarget<ScannerInput> {
  const frames = fc.constantFrom({ prefix: '', suffix: '' }, { prefix: ']Q1', suffix: '' }, { prefix: 'S:', suffix: ':E' });
  const lines = CODE_SEEDS.slice(0, 4).flatMap((s) => [s.text, `]Q1${s.text}`, `S:${s.text}:E`, `${s.text}\r`]).map((t) => Uint8Array.from(Buffer.from(t, 'utf8')));
  return {
    name: 'scanner-line',
    weight: 1,
    arbitrary: fc.record({
      line: fc.oneof({ weight: 3, arbitrary: mutatedBytes(lines).map((m) => m.value) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) }, { weight: 1, arbitrary: fc.integer({ min: 4290, max: 4400 }).map((n) => Uint8Array.from(Buffer.alloc(n, 0x41))) }),
      frame: frames,
    }).map(({ line, frame }) => ({ line, ...frame })),
    run: (input): Outcome => {
      const parsed = parseScannedLine(Buffer.from(input.line), input);
      if (parsed.kind === 'blank') return refused('blank');
      if (parsed.kind === 'garbage') return refused(reasonKey(parsed.reason));
      const clean = !/[\u0000-\u001f\u007f-\u009f]/.test(parsed.text) && parsed.text.length <= QR_MAX_CHARS && parsed.text !== '';
      return acceptedUnless(clean ? undefined : `code line ${JSON.stringify(parsed.text.slice(0, 80))} accepted`);
    },
    encode: (input) => JSON.stringify({ ...input, line: hex.encode(input.line) }),
    decode: (text) => {
      const json = JSON.parse(text) as { line: string; prefix: string; suffix: string };
      return { ...json, line: hex.decode(json.line) };
    },
  };
}
