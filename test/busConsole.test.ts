import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusConsole, busConsoleOptionsSchema, parseConsoleLine } from '../hal/busConsole.js';
import { LocationEvents } from './support/locationEvents.js';
import { PtyPair } from './support/socat.js';
import { cleanupAfterEach } from './support/cleanups.js';

describe('driver console lines', () => {
  it.each([
    ['ROUTE 818', { kind: 'route', route: '818' }],
    ['STOP S12', { kind: 'stop', stop: 'S12' }],
    ['  route\tK12-express ', { kind: 'route', route: 'K12-express' }],
    ['STOP 解放碑', { kind: 'stop', stop: '解放碑' }],
  ])('%j', (line, expected) => {
    expect(parseConsoleLine(Buffer.from(line))).toEqual(expected);
  });

  it.each([
    ['GO 818', /^"GO 818": expected ROUTE <id> or STOP <id>$/],
    ['ROUTE', /^"ROUTE": expected ROUTE <id> or STOP <id>$/],
    ['ROUTE 818 S12', /^"ROUTE 818 S12": expected ROUTE <id> or STOP <id>$/],
    ['STOP S12;DROP', /^STOP "S12;DROP": an id is letters, digits, "\.", "_" or "-", 1 to 32 characters$/],
    [`ROUTE ${'9'.repeat(33)}`, /^ROUTE "9{33}": an id is/],
  ])('refuses %j, saying why', (line, reason) => {
    const parsed = parseConsoleLine(Buffer.from(line));
    expect(parsed.kind).toBe('garbage');
    if (parsed.kind === 'garbage') expect(parsed.reason).toMatch(reason);
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(parseConsoleLine(Buffer.from([0x53, 0xff, 0xfe]))).toEqual({ kind: 'garbage', reason: '3 bytes that are not UTF-8' });
  });
});

let dir: string;
let n = 0;
const defer = cleanupAfterEach();
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-console-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function wired(): Promise<{ pty: PtyPair; events: LocationEvents }> {
  n++;
  const pty = new PtyPair(join(dir, `gate-${n}`), join(dir, `console-${n}`));
  await pty.plug();
  defer(() => pty.unplug());
  const console = new BusConsole(busConsoleOptionsSchema.parse({ path: pty.gateSide, reopenMinMs: 50, reopenMaxMs: 400 }));
  const events = new LocationEvents();
  await console.start(events.listener);
  defer(() => console.stop());
  return { pty, events };
}

describe('driver console over a pty', () => {
  it('turns ROUTE and STOP lines (CR, LF or CRLF) into route and stop events', async () => {
    const { pty, events } = await wired();
    expect(events.health()).toEqual([{ healthy: true, detail: `listening on ${pty.gateSide} at 9600 8N1` }]);
    pty.send('ROUTE 8');
    pty.send('18\r\nSTOP S1\rSTOP S2\n\n');
    pty.send(Buffer.from('STOP 解放碑\r\n'));
    await events.until((e) => e.places().length >= 4);
    expect(events.places()).toEqual([
      { type: 'route', route: '818' },
      { type: 'stop', stop: 'S1' },
      { type: 'stop', stop: 'S2' },
      { type: 'stop', stop: '解放碑' },
    ]);
    expect(events.health()).toHaveLength(1);
  });

  it('a line that is no command is a health detail, and the next command heals', async () => {
    const { pty, events } = await wired();
    pty.send('HELLO\r\nSTOP S3\r\n');
    await events.until((e) => e.places().length >= 1);
    expect(events.places()).toEqual([{ type: 'stop', stop: 'S3' }]);
    expect(events.health().map((h) => h.healthy)).toEqual([true, false, true]);
    expect(events.health()[1]!.detail).toBe(`discarded "HELLO": expected ROUTE <id> or STOP <id> from ${pty.gateSide} at 9600 8N1: check the console's baud rate and wiring`);
  });

  it('survives unplug and replug', async () => {
    const { pty, events } = await wired();
    pty.send('ROUTE 818\r\n');
    await events.until((e) => e.places().length >= 1);
    await pty.unplug();
    await events.until((e) => e.health().filter((h) => !h.healthy).length >= 2);
    expect(events.health()[1]!.detail).toBe(`${pty.gateSide} was unplugged; reopening in 50 ms`);
    await pty.plug();
    await events.until((e) => e.health().at(-1)!.healthy);
    pty.send('ROUTE 401\r\n');
    await events.until((e) => e.places().length >= 2);
    expect(events.places()).toEqual([{ type: 'route', route: '818' }, { type: 'route', route: '401' }]);
  });
});
