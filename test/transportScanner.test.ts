import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHexLine, parseRawFrame, QR_MAX_BYTES } from '../hal/scannedPayload.js';
import { SerialScanner, serialScannerOptionsSchema, type SerialScannerOptions } from '../hal/serialScanner.js';
import { assembleGate } from '../src/app/assemble.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import type { Outcome } from '../src/core/gate.js';
import { silentLog } from '../src/core/log.js';
import { createSimBoard } from '../sim/board.js';
import { LOCAL } from '../sim/transport/codeEncoder.js';
import { TransportRoot, TransportTestIssuer } from '../sim/transport/transportParties.js';
import { gateSettings, NOW, NOW_MS } from './fixtures.js';
import { cleanupAfterEach } from './support/cleanups.js';
import { ScannerEvents } from './support/scannerEvents.js';
import { PtyPair } from './support/socat.js';

/*
 * Binary codes end to end: a serial scan module set to hex or raw output, on a
 * real pseudo-terminal pair (socat), passes a transport QR code's bytes to the
 * gate, which journals the account as the tap's subject.
 */

const root = new TransportRoot(0x01);
const issuer = new TransportTestIssuer(root, 'C0DE0001');
const ACCOUNT = '3104770011223344556F';
const rider = issuer.enrol({ accountNumber: ACCOUNT, authorisedUntil: NOW + 86_400, version: LOCAL });
/** A code whose bytes hold CR and LF: a terminator would cut it, a quiet line does not. */
function codeWithLineEnds(): Buffer {
  for (let t = NOW - 30; ; t++) {
    const code = rider.code(t);
    if (code.includes(0x0d) && code.includes(0x0a)) return code;
  }
}
const code = codeWithLineEnds();

let dir: string;
let n = 0;
const defer = cleanupAfterEach();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-transport-serial-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function plugged(): Promise<PtyPair> {
  n++;
  const pty = new PtyPair(join(dir, `gate-${n}`), join(dir, `module-${n}`));
  await pty.plug();
  defer(() => pty.unplug());
  return pty;
}

function scanner(pty: PtyPair, options: Partial<SerialScannerOptions>): SerialScanner {
  // A quiet spell of 200 ms ends a raw code: far more than a module leaves between the bytes of one code.
  return new SerialScanner(serialScannerOptionsSchema.parse({ path: pty.gateSide, reopenMinMs: 50, reopenMaxMs: 400, frameGapMs: 200, ...options }));
}

async function wired(options: Partial<SerialScannerOptions>): Promise<{ pty: PtyPair; events: ScannerEvents }> {
  const pty = await plugged();
  const s = scanner(pty, options);
  const events = new ScannerEvents();
  await s.start(events.listener);
  defer(() => s.stop());
  return { pty, events };
}

const binaries = (events: ScannerEvents) => events.events.flatMap((e) => (e.type === 'binary' ? [Buffer.from(e.bytes)] : []));

describe('serial scan module with binary output', () => {
  it('hex output: one line of hex digits (spaces allowed) is one binary code; an odd line is garbage', async () => {
    const { pty, events } = await wired({ output: 'hex' });
    const spaced = code.toString('hex').toUpperCase().replace(/(..)/g, '$1 ').trim();
    pty.send(`${code.toString('hex')}\r${spaced}\r123\r`);
    await events.until((e) => binaries(e).length >= 2 && e.health().some((h) => !h.healthy));
    expect(binaries(events)).toEqual([code, code]);
    expect(events.codes()).toEqual([]);
    expect(events.health().find((h) => !h.healthy)!.detail).toMatch(/^discarded an odd number \(3\) of hex digits from .*hex output and prefix\/suffix$/);
  });

  it('raw output: the bytes up to a quiet line are one code, CR and LF inside it included; prefix and suffix removed', async () => {
    const { pty, events } = await wired({ output: 'raw', prefix: ']Q1', suffix: '\r' });
    pty.send(Buffer.concat([Buffer.from(']Q1'), code.subarray(0, 100)]));
    pty.send(Buffer.concat([code.subarray(100), Buffer.from('\r')]));
    await events.until((e) => binaries(e).length >= 1);
    pty.send(Buffer.concat([Buffer.from(']Q1CG1:ABC'), Buffer.from('\r')]));
    await events.until((e) => binaries(e).length >= 2);
    expect(binaries(events)).toEqual([code, Buffer.from('CG1:ABC')]);
  });

  it('raw output: a burst without the prefix is garbage, and the next code is taken', async () => {
    const { pty, events } = await wired({ output: 'raw', prefix: ']Q1' });
    pty.send(code);
    await events.until((e) => e.health().some((h) => !h.healthy));
    pty.send(Buffer.concat([Buffer.from(']Q1'), code]));
    await events.until((e) => binaries(e).length >= 1);
    expect(binaries(events)).toEqual([code]);
    expect(events.health().find((h) => !h.healthy)!.detail).toMatch(/^discarded a code without the prefix "\]Q1" from .*raw output, codes 200 ms apart/);
  });

  it('validates hex lines and raw frames', () => {
    const plain = { prefix: '', suffix: '' };
    expect(parseHexLine(Buffer.from('\n80ff\r'), plain)).toEqual({ kind: 'bytes', bytes: Uint8Array.of(0x80, 0xff) });
    expect(parseHexLine(Buffer.from('8g'), plain)).toEqual({ kind: 'garbage', reason: 'a line of 2 characters that are not all hex digits' });
    expect(parseHexLine(Buffer.from('\r'), plain)).toEqual({ kind: 'blank' });
    expect(parseRawFrame(Buffer.alloc(QR_MAX_BYTES + 1), plain)).toEqual({ kind: 'garbage', reason: `${QR_MAX_BYTES + 1} bytes, more than a QR code holds` });
    expect(parseRawFrame(Buffer.from('#'), { prefix: '', suffix: '##' })).toEqual({ kind: 'garbage', reason: 'a code without the suffix "##"' });
  });

  it('the gate takes the code from the module and journals the account as the subject', async () => {
    const pty = await plugged();
    const board = { ...createSimBoard(NOW_MS), scanners: [scanner(pty, { output: 'raw' })] };
    const trust = TrustStore.fromDocument({ issuers: [], transport: { roots: [root.trustEntry()], issuers: [issuer.id] } });
    const settings = { ...gateSettings({ mode: 'venue', fares: { default: 200, byCategory: {} } }), site: 'cq-metro-l2' };
    const { gate, journal } = assembleGate({ board, settings, trust, denyList: new MemoryDenyList(), journalPath: join(dir, 'journal.db'), log: silentLog });
    const outcomes: Outcome[] = [];
    gate.onOutcome((o) => outcomes.push(o));
    await gate.start();
    defer(async () => {
      await gate.stop();
      journal.close();
    });
    pty.send(code);
    const deadline = Date.now() + 20_000;
    while (outcomes.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(outcomes[0]).toMatchObject({ type: 'tap', tap: { kind: 'code', issuer: 'transport', subject: ACCOUNT, category: 'adult', result: 'accepted', reason: 'ok', fare: 200 } });
    expect(journal.taps()).toMatchObject([{ kind: 'code', issuer: 'transport', subject: ACCOUNT, result: 'accepted' }]);
    expect(board.barrier.actions.map((a) => a.action)).toEqual(['close', 'open']);
  });
});
