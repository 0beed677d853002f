import { z } from 'zod';
import type { LocationEvent, LocationSource } from '../locationSource.js';
import { SerialLines, serialLineOptions } from '../serialLines.js';
import { NMEA_MAX_LINE, parseNmea } from './nmeaParser.js';
import { HealthReport } from '../healthReport.js';

export const nmeaGpsOptionsSchema = z.strictObject({
  ...serialLineOptions,
  /** Receivers send every second; this long without a valid sentence means a cut wire or a dead receiver. */
  silenceMs: z.number().int().min(100).max(600_000).default(5000),
});

export type NmeaGpsOptions = z.output<typeof nmeaGpsOptionsSchema>;

/**
 * A GPS / BeiDou receiver on a serial port (UART or USB) sending NMEA 0183.
 * Every GGA or RMC with coordinates is a `position` event; garbage, silence
 * and a lost port are `health` events a technician can act on. Having no
 * satellite fix (a depot, a tunnel) is no fault: health stays good and says so.
 */
export class NmeaGps implements LocationSource {
  private listener: ((event: LocationEvent) => void) | undefined;
  private readonly lines: SerialLines;
  private silenceTimer: NodeJS.Timeout | undefined;
  private readonly health = new HealthReport((healthy, detail) => this.listener?.({ type: 'health', healthy, detail }));

  constructor(private readonly options: NmeaGpsOptions) {
    this.lines = new SerialLines(options, NMEA_MAX_LINE, {
      line: (line) => this.handleLine(line),
      port: (state, detail) => {
        if (state === 'open') this.armSilence();
        else clearTimeout(this.silenceTimer);
        this.health.set(state === 'open', detail);
      },
      overflow: (bytes) => this.garbage(`${bytes} bytes without an end of line`),
    });
  }

  async start(listener: (event: LocationEvent) => void): Promise<void> {
    this.listener = listener;
    await this.lines.start();
  }

  async stop(): Promise<void> {
    clearTimeout(this.silenceTimer);
    await this.lines.stop();
    this.listener = undefined;
  }

  private handleLine(line: Buffer): void {
    const sentence = parseNmea(line.toString('latin1'));
    if (sentence.kind === 'garbage') {
      this.garbage(sentence.reason);
      return;
    }
    this.armSilence();
    // Satellites in view and the like: proof of life only, so that the fix state shown is not overwritten every second.
    if (sentence.kind === 'other') {
      if (!this.health.healthy) this.health.set(true, `receiving NMEA on ${this.lines.describePort()}`);
      return;
    }
    if (sentence.kind === 'no-position') {
      this.health.set(true, `receiving NMEA on ${this.lines.describePort()}: no position yet`);
      return;
    }
    this.health.set(true, `receiving NMEA on ${this.lines.describePort()}: ${sentence.fixed ? 'fix' : 'no fix'}`);
    this.listener?.({ type: 'position', lat: sentence.lat, lon: sentence.lon, fixed: sentence.fixed });
  }

  private armSilence(): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(
      () => this.health.set(false, `no valid NMEA sentence for ${this.options.silenceMs} ms on ${this.lines.describePort()}: check the receiver's power, wiring and baud rate`),
      this.options.silenceMs,
    );
  }

  private garbage(reason: string): void {
    this.health.set(false, `discarded ${reason} from ${this.lines.describePort()}: check the receiver's baud rate (4800 or 9600 for most) and wiring`);
  }
}
