import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGpioBarrier, type GpioBarrierSettings } from '../hal/gpio/barrier.js';
import { HEADER_CHIP_LABELS } from '../hal/gpio/chipBase.js';
import { openGpioPort } from '../hal/gpio/gpioPort.js';
import { createSimBoard } from '../sim/board.js';
import { TestIssuer } from '../sim/issuer.js';
import { FakeGpio } from './support/fakeGpio.js';
import { FakeSysfs, PI5_CHIPS } from './support/fakeSysfs.js';
import { gateFixture, nowSec, START, type GateFixture } from './gateFixture.js';

/*
 * A group ticket on a tripod turnstile: the turnstile board takes one pulse
 * per person (GPIO barrier in pulse mode), so the gate must pulse again after
 * each passage while the ticket has passages left.
 */

const BASE = 571;
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup.splice(0)) done();
});

/** Lets the driver's pin writes (promise chains) finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function laneWith(barrierSettings: GpioBarrierSettings): Promise<{ f: GateFixture; gpio: FakeGpio; alarms: string[] }> {
  const board = createSimBoard(START);
  const tree = new FakeSysfs(PI5_CHIPS);
  const gpio = new FakeGpio(() => board.clock.monotonic());
  const port = await openGpioPort({ sysfsRoot: tree.root, chipLabels: HEADER_CHIP_LABELS }, gpio.open);
  const barrier = await createGpioBarrier(barrierSettings, { port, clock: board.clock, onFault: (fault) => expect.fail(fault.message) });
  const f = await gateFixture({}, { dir: mkdtempSync(join(tmpdir(), 'citygate-turnstile-')), issuer, board: Object.assign(board, { barrier }) });
  cleanup.push(() => f.dispose(), () => tree.dispose());
  const alarms: string[] = [];
  f.gate.onAlarm((a) => alarms.push(a.type));
  await settle();
  return { f, gpio, alarms };
}

async function walkThrough(f: GateFixture): Promise<void> {
  f.board.clock.advance(1_500);
  await settle();
  f.board.passage.pass();
  await settle();
}

const groupOf = (f: GateFixture, entries: number) => issuer.issuerCode({ sub: `group-${entries}`, iat: nowSec(f.board), product: { site: 'site-a', entries } });

describe('group tickets', () => {
  it('a turnstile gets one pulse per person of a group of 3, and the fourth is tailgating', async () => {
    const { f, gpio, alarms } = await laneWith({ mode: 'pulse', open: { bcm: 17, activeLow: false }, pulseMs: 300 });
    const outcome = await f.gate.presentCode(groupOf(f, 3));
    expect(outcome.type === 'tap' && outcome.tap.reason).toBe('ok');
    await settle();
    const pulses = () => gpio.writes(BASE + 17).filter((level) => level === 1).length;
    expect(pulses()).toBe(1);
    await walkThrough(f);
    expect(pulses()).toBe(2);
    await walkThrough(f);
    expect(pulses()).toBe(3);
    await walkThrough(f);
    expect(pulses()).toBe(3);
    expect(f.gate.currentState()).toBe('idle');
    expect(alarms).toEqual([]);
    await walkThrough(f);
    expect(alarms).toEqual(['tailgate']);
    expect(gpio.writes(BASE + 17)).toEqual([1, 0, 1, 0, 1, 0]);
  });

  it('a level barrier stays open through the group: its open relay never drops until the last one has passed', async () => {
    const { f, gpio } = await laneWith({ mode: 'level', open: { bcm: 17, activeLow: true }, close: { bcm: 27, activeLow: true } });
    const before = gpio.writes(BASE + 17).length;
    await f.gate.presentCode(groupOf(f, 3));
    await walkThrough(f);
    await walkThrough(f);
    const during = gpio.writes(BASE + 17).slice(before);
    // Active-low: 0 = open relay on. Commanded again per person, it only ever stays on.
    expect(during.length).toBeGreaterThan(1);
    expect(during.every((level) => level === 0)).toBe(true);
    await walkThrough(f);
    expect(gpio.writes(BASE + 17).at(-1)).toBe(1);
    expect(f.board.barrier.state()).toBe('closed');
  });
});
