import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PassageEvent, PassageSensor } from '../hal/passageSensor.js';
import { createSimBoard } from '../sim/board.js';
import { TestIssuer } from '../sim/issuer.js';
import type { TrustStore } from '../src/core/credentials/trustList.js';
import type { Alarm } from '../src/core/gate.js';
import { silentLog } from '../src/core/log.js';
import { FleetLink } from '../src/core/sync/fleetLink.js';
import { gateFixture, nowSec, START, type GateFixture } from './gateFixture.js';

/*
 * Tailgating: a passage nobody paid for (or the sensor's own judgement that
 * two went through on one opening) raises the alarm, sounds it, journals a
 * `tailgate` event and shows in the fleet status.
 */

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A lane controller that judges tailgating itself, as the GPIO `controller` kind does. */
class JudgingSensor implements PassageSensor {
  private listener: ((event: PassageEvent) => void) | undefined;
  async start(listener: (event: PassageEvent) => void): Promise<void> {
    this.listener = listener;
  }
  async stop(): Promise<void> {
    this.listener = undefined;
  }
  emit(event: PassageEvent): void {
    this.listener?.(event);
  }
}

const fixtures: GateFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.dispose();
});

async function lane(): Promise<{ f: GateFixture; alarms: Alarm[] }> {
  const f = await gateFixture();
  fixtures.push(f);
  const alarms: Alarm[] = [];
  f.gate.onAlarm((a) => alarms.push(a));
  return { f, alarms };
}

describe('tailgating', () => {
  it('a passage through a closed lane: alarm, alarm tone, and a journal event at the board clock time', async () => {
    const { f, alarms } = await lane();
    f.board.clock.advance(90_000);
    const before = f.board.clock.now();
    f.board.passage.pass();
    const after = f.board.clock.now();
    expect(alarms).toEqual([{ type: 'tailgate' }]);
    expect(f.board.indicators.tones).toEqual(['alarm']);
    const [event, ...rest] = f.journal.events();
    expect(rest).toEqual([]);
    expect(event).toEqual({ id: expect.stringMatching(UUID_V7), at: expect.stringMatching(/^2026-11-23T08:01:30\.\d{3}Z$/), type: 'tailgate', detail: { sensor: 'passage', creditsLeft: 0 } });
    expect(Date.parse(event!.at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(event!.at)).toBeLessThanOrEqual(after);
    expect(f.journal.taps()).toEqual([]);
  });

  it("the sensor's tailgate judgement during a paid opening: alarm and event, and the paid passage still stands", async () => {
    const sensor = new JudgingSensor();
    const board = Object.assign(createSimBoard(START), { passage: sensor });
    const f = await gateFixture({}, { dir: mkdtempSync(join(tmpdir(), 'citygate-tailgate-')), issuer: new TestIssuer('cq.yukuaima', 'ES256'), board });
    fixtures.push(f);
    const alarms: Alarm[] = [];
    f.gate.onAlarm((a) => alarms.push(a));
    await f.gate.presentCode(f.issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) }));
    sensor.emit({ type: 'tailgate' });
    expect(alarms).toEqual([{ type: 'tailgate' }]);
    expect(f.journal.events().map((e) => e.detail)).toEqual([{ sensor: 'tailgate', creditsLeft: 1 }]);
    expect(f.board.barrier.state()).toBe('open');
    sensor.emit({ type: 'passage' });
    expect(f.board.barrier.state()).toBe('closed');
    expect(alarms).toHaveLength(1);
  });

  it('paid passages raise nothing; events are read from a time on, and kept across a restart', async () => {
    const { f } = await lane();
    await f.gate.presentCode(f.issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) }));
    f.board.passage.pass();
    expect(f.journal.events()).toEqual([]);
    f.board.passage.pass();
    f.board.clock.advance(60_000);
    const cut = new Date(f.board.clock.now()).toISOString();
    f.board.passage.pass();
    const [first, second] = f.journal.events();
    expect(first!.at < cut && second!.at >= cut).toBe(true);
    expect(f.journal.events(cut)).toEqual([second]);
    const again = await f.restart();
    fixtures.push(again);
    expect(again.journal.events().map((e) => e.type)).toEqual(['tailgate', 'tailgate']);
  });

  it('a journal that refuses the event is the journal alarm; the tailgate alarm still goes out', async () => {
    const { f, alarms } = await lane();
    f.journal.appendEvent = () => {
      throw new Error('SQLITE_FULL: database or disk is full');
    };
    f.board.passage.pass();
    expect(alarms).toEqual([{ type: 'tailgate' }, { type: 'journal-unavailable', error: 'SQLITE_FULL: database or disk is full' }]);
    expect(f.gate.journalWorking()).toBe(false);
  });

  it('shows in the fleet status', async () => {
    const { f } = await lane();
    const link = new FleetLink(
      {
        gate: f.gate,
        journal: f.journal,
        replay: f.replay,
        denyList: { apply: () => ({ status: 'applied' }) as never, seqs: () => ({}) },
        trust: { current: () => ({}) as TrustStore, seq: () => 0, apply: () => undefined, reload: () => undefined },
        clock: f.board.clock,
        gateId: f.settings.gateId,
        site: f.settings.site,
        skewSec: 30,
        version: 'test',
        log: silentLog,
        onModeCommand: () => undefined,
      },
      { url: 'mqtt://127.0.0.1:1' },
    );
    f.board.passage.pass();
    expect(link.status()).toMatchObject({ alarms: [{ type: 'tailgate', detail: '', at: expect.stringMatching(/^2026-11-23T08:00:00\.\d{3}Z$/) }], emergency: false });
    await link.stop();
  });
});
