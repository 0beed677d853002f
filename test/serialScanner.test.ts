import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QR_MAX_CHARS, SerialScanner, parseScannedLine, serialScannerOptionsSchema, type SerialScannerOptions } from '../hal/serialScanner.js';
import { ScannerEvents } from './support/scannerEvents.js';
import { PtyPair } from './support/socat.js';
import { cleanupAfterEach } from './support/cleanups.js';

/*
 * The serial scan-module driver on a real pseudo-terminal pair (socat): the
 * same termios, reads and hang-ups as a UART or a USB-CDC module.
 */
const CODE = 'CG1:6BFOXN*TS0BI$ZDFRH%:PH9AX0+ZOH7LBV3KA:B 8K-XN3K3K5F5G0X4';
let dir: string;
let n = 0;
const defer = cleanupAfterEach();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-serial-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function wired(options: Partial<SerialScannerOptions> = {}): Promise<{ pty: PtyPair; events: ScannerEvents }> {
  n++;
  const pty = new PtyPair(join(dir, `gate-${n}`), join(dir, `module-${n}`));
  await pty.plug();
  defer(() => pty.unplug());
  const scanner = new SerialScanner(serialScannerOptionsSchema.parse({ path: pty.gateSide, reopenMinMs: 50, reopenMaxMs: 400, ...options }));
  const events = new ScannerEvents();
  await scanner.start(events.listener);
  defer(() => scanner.stop());
  return { pty, events };
}

describe('serial scan module over a pty', () => {
  it('emits one code per CR-terminated line, across split writes, ignoring blank lines', async () => {
    const { pty, events } = await wired();
    expect(events.health()).toEqual([{ healthy: true, detail: `listening on ${pty.gateSide} at 9600 8N1` }]);
    pty.send(`${CODE.slice(0, 20)}`);
    pty.send(`${CODE.slice(20)}\r\r`);
    pty.send('second-code\rthird\r');
    await events.until((e) => e.codes().length >= 3);
    expect(events.codes()).toEqual([CODE, 'second-code', 'third']);
    expect(events.health()).toHaveLength(1);
  });

  it.each([
    ['lf', 'A-1\nB-2\n'],
    ['crlf', 'A-1\r\nB-2\r\n'],
    [0x03, 'A-1\x03B-2\x03'],
  ] as const)('terminator %s', async (terminator, wire) => {
    const { pty, events } = await wired({ terminator, baudRate: 115_200 });
    pty.send(wire);
    await events.until((e) => e.codes().length >= 2);
    expect(events.codes()).toEqual(['A-1', 'B-2']);
  });

  it('strips the configured prefix and suffix, and reports lines without them as garbage, not codes', async () => {
    const { pty, events } = await wired({ prefix: ']Q1', suffix: '#' });
    pty.send(`]Q1${CODE}#\rno-prefix#\r]Q1again#\r`);
    await events.until((e) => e.codes().length >= 2);
    expect(events.codes()).toEqual([CODE, 'again']);
    expect(events.health().map((h) => h.healthy)).toEqual([true, false, true]);
    expect(events.health()[1]!.detail).toMatch(/discarded a line without the prefix "\]Q1" .*check the module's baud rate, terminator \(CR\)/);
  });

  it('garbage from a wrong baud rate and an endless line are health details, and the next good line is a code', async () => {
    const { pty, events } = await wired();
    pty.send(Buffer.from([0xf8, 0x80, 0xfe, 0x0d]));
    pty.send(Buffer.from('ab\x07cd\r', 'latin1'));
    pty.send('x'.repeat(5 * QR_MAX_CHARS));
    pty.send('tail-of-the-long-line\rgood\r');
    await events.until((e) => e.codes().length >= 1);
    expect(events.codes()).toEqual(['good']);
    const details = events.health().filter((h) => !h.healthy).map((h) => h.detail);
    expect(details[0]).toMatch(/^discarded 3 bytes that are not UTF-8 from /);
    expect(details[1]).toMatch(/^discarded a line with control characters/);
    expect(details[2]).toMatch(/^discarded more than \d+ bytes without a terminator/);
    expect(events.health().at(-1)!.healthy).toBe(true);
  });

  it('survives unplug and replug: unhealthy while gone, reopened with backoff, codes again after', async () => {
    const { pty, events } = await wired();
    pty.send('before\r');
    await events.until((e) => e.codes().length >= 1);
    await pty.unplug();
    await events.until((e) => e.health().filter((h) => !h.healthy).length >= 3);
    const gone = events.health().filter((h) => !h.healthy).map((h) => h.detail);
    expect(gone[0]).toBe(`${pty.gateSide} was unplugged; reopening in 50 ms`);
    expect(gone[1]).toMatch(new RegExp(`^cannot open ${pty.gateSide} at 9600 8N1: .*; reopening in 100 ms$`));
    await pty.plug();
    await events.until((e) => e.health().at(-1)!.healthy);
    pty.send('after\r');
    await events.until((e) => e.codes().length >= 2);
    expect(events.codes()).toEqual(['before', 'after']);
  });

  it('a port that is not there at start is retried until it appears', async () => {
    const pty = new PtyPair(join(dir, 'late-gate'), join(dir, 'late-module'));
    defer(() => pty.unplug());
    const scanner = new SerialScanner(serialScannerOptionsSchema.parse({ path: pty.gateSide, reopenMinMs: 50, reopenMaxMs: 200 }));
    const events = new ScannerEvents();
    await scanner.start(events.listener);
    defer(() => scanner.stop());
    await events.until((e) => e.health().length >= 2);
    expect(events.health().every((h) => !h.healthy)).toBe(true);
    await pty.plug();
    await events.until((e) => e.health().at(-1)!.healthy);
    pty.send('late\r');
    await events.until((e) => e.codes().length >= 1);
    expect(events.codes()).toEqual(['late']);
  });
});

describe('line validation', () => {
  const plain = { prefix: '', suffix: '' };
  it.each([
    ['a code', Buffer.from(CODE), { kind: 'code', text: CODE }],
    ['a stray LF from a CRLF module', Buffer.from(`\n${CODE}`), { kind: 'code', text: CODE }],
    ['UTF-8 text', Buffer.from('票-42'), { kind: 'code', text: '票-42' }],
    ['blank', Buffer.from(''), { kind: 'blank' }],
    ['the longest QR text', Buffer.from('A'.repeat(QR_MAX_CHARS)), { kind: 'code', text: 'A'.repeat(QR_MAX_CHARS) }],
  ])('%s', (_, line, expected) => {
    expect(parseScannedLine(line, plain)).toEqual(expected);
  });
  it('one character more than a QR code holds is garbage', () => {
    expect(parseScannedLine(Buffer.from('A'.repeat(QR_MAX_CHARS + 1)), plain)).toEqual({ kind: 'garbage', reason: `a line of ${QR_MAX_CHARS + 1} characters, more than a QR code holds` });
  });
  it('rejects configuration it cannot use', () => {
    expect(serialScannerOptionsSchema.safeParse({ path: '/dev/ttyS0', terminator: 'etx' }).success).toBe(false);
    expect(serialScannerOptionsSchema.safeParse({ path: '/dev/ttyS0', terminator: 256 }).success).toBe(false);
    expect(serialScannerOptionsSchema.safeParse({ path: '/dev/ttyS0', baudRate: 9601.5 }).success).toBe(false);
  });
});
