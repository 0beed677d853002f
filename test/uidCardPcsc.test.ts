import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CardReaderEvent } from '../hal/cardReader.js';
import { PcscCardReader } from '../hal/pcsc/pcscCardReader.js';
import type { Tap } from '../src/core/tap.js';
import { createSimBoard } from '../sim/board.js';
import { TestIssuer } from '../sim/issuer.js';
import type { PcscdProcess } from '../sim/pcscdProcess.js';
import { UidCard } from '../sim/uidCard.js';
import { VpcdCard } from '../sim/vpcdCard.js';
import { gateFixture, START, type GateFixture } from './gateFixture.js';
import { startPrivatePcscd } from './support/pcscd.js';

/*
 * A UID-only card on the real PC/SC stack: pcsclite -> a private pcscd ->
 * vpcd -> sim/uidCard.ts. The CG SELECT and the GET DATA pseudo-APDU go
 * through pcscd as they would to a reader's driver.
 */

let daemon: PcscdProcess;
let fixture: GateFixture;
let slot: VpcdCard;
const events: CardReaderEvent[] = [];

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\npcscd log:\n${daemon.log().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function tapFor(uid: string): Promise<Tap> {
  const seen = fixture.outcomes.length;
  const removals = events.filter((e) => e.type === 'card-removed').length;
  await slot.insert(new UidCard(uid));
  const outcome = await until('a tap', () => fixture.outcomes[seen]);
  await slot.remove();
  await until('card-removed', () => (events.filter((e) => e.type === 'card-removed').length > removals ? true : undefined));
  if (outcome.type !== 'tap') throw new Error(`expected a tap, got ${outcome.type}`);
  return outcome.tap;
}

beforeAll(async () => {
  daemon = await startPrivatePcscd();
  const board = createSimBoard(START);
  const inner = new PcscCardReader({ socket: daemon.socketPath, reconnectMs: { first: 100, max: 400 } });
  board.readers = [
    {
      start: (listener) =>
        inner.start((event) => {
          events.push(event);
          listener(event);
        }),
      stop: () => inner.stop(),
    },
  ];
  const access = { allow: [{ issuer: 'uid', subject: '04A1B2C3D4E5F6' }], schedules: {}, visitorIssuers: [], uidCards: true };
  fixture = await gateFixture({ mode: 'access', access, apduTimeoutMs: 1_500, doubleTapMs: 0 }, { dir: mkdtempSync(join(tmpdir(), 'citygate-uid-pcsc-')), issuer: new TestIssuer('cq.yukuaima', 'ES256'), board });
  slot = new VpcdCard(daemon.ports[0]!);
  await until('the vpcd reader', () => (events.some((e) => e.type === 'health' && e.healthy && e.detail.includes(daemon.readerNames[0]!)) ? true : undefined));
});

afterAll(async () => {
  await slot?.remove();
  await fixture?.gate.stop();
  fixture?.dispose();
  await daemon?.stop();
});

describe('UID card over PC/SC', () => {
  it('reads the UID with FF CA through pcscd and admits the allow-listed card', async () => {
    const tap = await tapFor('04A1B2C3D4E5F6');
    expect(tap).toMatchObject({ kind: 'uid', issuer: 'uid', subject: '04A1B2C3D4E5F6', category: 'staff', result: 'accepted', reason: 'ok' });
    expect(fixture.board.barrier.state()).toBe('open');
    fixture.board.passage.pass();
    expect(fixture.board.barrier.state()).toBe('closed');
  });

  it('refuses a UID that is not on the list, a 10-byte one', async () => {
    const tap = await tapFor('04A1B2C3D4E5F60718AB');
    expect(tap).toMatchObject({ kind: 'uid', subject: '04A1B2C3D4E5F60718AB', result: 'refused', reason: 'not-allowed' });
    expect(fixture.board.barrier.state()).toBe('closed');
  });
});
