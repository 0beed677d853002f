import { z } from 'zod';
import { PLACE_ID, PLACE_ID_RULE, type LocationEvent, type LocationSource } from './locationSource.js';
import { SerialLines, serialLineOptions } from './serialLines.js';
import { HealthReport } from './healthReport.js';

export const busConsoleOptionsSchema = z.strictObject({ ...serialLineOptions });
export type BusConsoleOptions = z.output<typeof busConsoleOptionsSchema>;

/** Longer than any command; a longer line is noise on the wire. */
const MAX_LINE = 128;

export type ConsoleCommand = { kind: 'route'; route: string } | { kind: 'stop'; stop: string } | { kind: 'garbage'; reason: string };

/**
 * One line from the driver console: `ROUTE <id>` or `STOP <id>` (the command
 * word in any case, spaces or tabs between, an id as PLACE_ID allows).
 */
export function parseConsoleLine(line: Buffer): ConsoleCommand {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(line).trim();
  } catch {
    return { kind: 'garbage', reason: `${line.length} bytes that are not UTF-8` };
  }
  const match = /^(\S+)[ \t]+(\S+)$/.exec(text);
  const command = match?.[1]!.toUpperCase();
  if (!match || (command !== 'ROUTE' && command !== 'STOP')) return { kind: 'garbage', reason: `${JSON.stringify(text.slice(0, 40))}: expected ROUTE <id> or STOP <id>` };
  const id = match[2]!;
  if (!PLACE_ID.test(id)) return { kind: 'garbage', reason: `${command} ${JSON.stringify(id.slice(0, 40))}: an id is ${PLACE_ID_RULE}` };
  return command === 'ROUTE' ? { kind: 'route', route: id } : { kind: 'stop', stop: id };
}

/**
 * A driver console on a serial line: the driver (or the vehicle's own
 * announcement system) sends the route at the start of a trip and the stop
 * at each stop. Lines that are not commands are health details, never events.
 */
export class BusConsole implements LocationSource {
  private listener: ((event: LocationEvent) => void) | undefined;
  private readonly lines: SerialLines;
  private readonly health = new HealthReport((healthy, detail) => this.listener?.({ type: 'health', healthy, detail }));

  constructor(options: BusConsoleOptions) {
    this.lines = new SerialLines(options, MAX_LINE, {
      line: (line) => this.handleLine(line),
      port: (state, detail) => this.health.set(state === 'open', detail),
      overflow: (bytes) => this.garbage(`${bytes} bytes without an end of line`),
    });
  }

  async start(listener: (event: LocationEvent) => void): Promise<void> {
    this.listener = listener;
    await this.lines.start();
  }

  async stop(): Promise<void> {
    await this.lines.stop();
    this.listener = undefined;
  }

  private handleLine(line: Buffer): void {
    const command = parseConsoleLine(line);
    if (command.kind === 'garbage') {
      this.garbage(command.reason);
      return;
    }
    this.health.set(true, `listening on ${this.lines.describePort()}`);
    this.listener?.(command.kind === 'route' ? { type: 'route', route: command.route } : { type: 'stop', stop: command.stop });
  }

  private garbage(reason: string): void {
    this.health.set(false, `discarded ${reason} from ${this.lines.describePort()}: check the console's baud rate and wiring`);
  }
}
