import { afterEach, describe, expect, it } from 'vitest';
import type { EmergencyContactEvent } from '../hal/emergencyInput.js';
import { createGpioBarrier } from '../hal/gpio/barrier.js';
import { findGpioChip, HEADER_CHIP_LABELS } from '../hal/gpio/chipBase.js';
import type { GpioContext } from '../hal/gpio/gpioContext.js';
import type { GpioFault } from '../hal/gpio/gpioFault.js';
import { openGpioPort } from '../hal/gpio/gpioPort.js';
import { createGpioEmergencyContact } from '../hal/gpio/emergencyContact.js';
import { createGpioIndicators, tonePattern } from '../hal/gpio/indicators.js';
import { BeamPassageLogic, createGpioPassageSensor } from '../hal/gpio/passageSensor.js';
import type { PassageEvent } from '../hal/passageSensor.js';
import { FakeGpio } from './support/fakeGpio.js';
import { FakeSysfs, PI4_CHIPS, PI5_CHIPS } from './support/fakeSysfs.js';
import { StepClock } from './support/stepClock.js';

const trees: FakeSysfs[] = [];
afterEach(() => {
  for (const tree of trees.splice(0)) tree.dispose();
});

function sysfs(chips: { base: number; label: string; ngpio: number }[]): FakeSysfs {
  const tree = new FakeSysfs(chips);
  trees.push(tree);
  return tree;
}

/** A Pi 5 (header chip base 571), fake pins, hand-moved timers, faults collected. */
async function pi5(): Promise<{ gpio: FakeGpio; clock: StepClock; faults: GpioFault[]; context: GpioContext }> {
  const clock = new StepClock();
  const gpio = new FakeGpio(() => clock.at);
  const port = await openGpioPort({ sysfsRoot: sysfs(PI5_CHIPS).root, chipLabels: HEADER_CHIP_LABELS }, gpio.open);
  const faults: GpioFault[] = [];
  return { gpio, clock, faults, context: { port, clock, onFault: (f) => faults.push(f) } };
}

const BASE = 571;
const high = { activeLow: false };
const low = { activeLow: true };

describe('gpiochip base', () => {
  it('finds the header chip by label on a Pi 4 and a Pi 5 (never base 0)', async () => {
    expect(await findGpioChip(sysfs(PI4_CHIPS).root, HEADER_CHIP_LABELS)).toMatchObject({ name: 'gpiochip512', base: 512, ngpio: 58 });
    expect(await findGpioChip(sysfs(PI5_CHIPS).root, HEADER_CHIP_LABELS)).toMatchObject({ name: 'gpiochip571', label: 'pinctrl-rp1', base: 571 });
  });

  it('takes a configured label, and names the chips it saw when none matches', async () => {
    const root = sysfs(PI4_CHIPS).root;
    expect((await findGpioChip(root, ['raspberrypi-exp-gpio'])).base).toBe(570);
    await expect(findGpioChip(root, ['pinctrl-rp1'])).rejects.toThrow(/no gpiochip labelled pinctrl-rp1 .*gpiochip512=pinctrl-bcm2711, gpiochip570=raspberrypi-exp-gpio/);
  });

  it('says when there is no sysfs GPIO at all', async () => {
    const root = sysfs([]).root;
    await expect(findGpioChip(`${root}/missing`, HEADER_CHIP_LABELS)).rejects.toThrow(/no sysfs GPIO at .*CONFIG_GPIO_SYSFS/);
  });
});

describe('pins', () => {
  it('exports base + BCM at the inactive level: low for active-high, high for active-low', async () => {
    const { gpio, context } = await pi5();
    const relay = await context.port.output('relay', { bcm: 17, ...low });
    const led = await context.port.output('led', { bcm: 22, ...high });
    expect(gpio.log).toEqual([
      { sysfs: BASE + 17, op: 'export', direction: 'high' },
      { sysfs: BASE + 22, op: 'export', direction: 'low' },
    ]);
    await relay.set(true);
    await led.set(true);
    expect([gpio.line(BASE + 17).level, gpio.line(BASE + 22).level]).toEqual([0, 1]);
  });

  it('turns errno into what a technician does about it', async () => {
    const { gpio, context } = await pi5();
    gpio.refuse.set(BASE + 5, 'EACCES');
    gpio.refuse.set(BASE + 6, 'EBUSY');
    await expect(context.port.output('barrier.open', { bcm: 5, ...high })).rejects.toThrow(/barrier.open \(BCM5, sysfs 576 on gpiochip571\).*not in the gpio group/);
    await expect(context.port.input('emergency', { bcm: 6, ...high, debounceMs: 5 })).rejects.toThrow(/busy.*dtoverlay/);
    await expect(context.port.output('x', { bcm: 54, ...high })).rejects.toThrow(/BCM54 is not a pin of pinctrl-rp1 \(0\.\.53\)/);
  });

  it('reports a failed write as a rejection naming the pin', async () => {
    const { gpio, context } = await pi5();
    const led = await context.port.output('light.red', { bcm: 9, ...high });
    gpio.line(BASE + 9).failWrites = Object.assign(new Error('EIO'), { code: 'EIO' });
    await expect(led.set(true)).rejects.toThrow(/light.red \(BCM9.*EIO/);
  });
});

describe('barrier', () => {
  it('level mode with two relays: starts closed, never has both relays on, releases to rest', async () => {
    const { gpio, context } = await pi5();
    const barrier = await createGpioBarrier({ mode: 'level', open: { bcm: 17, ...low }, close: { bcm: 27, ...low } }, context);
    expect(barrier.state()).toBe('closed');
    await barrier.open();
    await barrier.close();
    const relays = gpio.log.filter((op) => op.op === 'write').map((op) => [op.sysfs - BASE, op.op === 'write' ? op.level : -1]);
    // Active-low: 0 = relay on. Each change switches the other relay off before this one on.
    expect(relays).toEqual([[17, 1], [27, 0], [27, 1], [17, 0], [17, 1], [27, 0]]);
    await barrier.release();
    expect(gpio.line(BASE + 17).exported || gpio.line(BASE + 27).exported).toBe(false);
    expect(gpio.line(BASE + 17).level).toBe(1);
  });

  it('pulse mode: one pulse of pulseMs on the open input per open()', async () => {
    const { gpio, clock, context } = await pi5();
    const barrier = await createGpioBarrier({ mode: 'pulse', open: { bcm: 17, ...high }, pulseMs: 300 }, context);
    await barrier.open();
    expect(barrier.state()).toBe('open');
    await clock.advance(1000);
    await barrier.close();
    expect(barrier.state()).toBe('closed');
    expect(gpio.timeline(BASE + 17)).toEqual([[0, 1], [300, 0]]);
  });

  it('a pulse that cannot end is a fault for the board, not silence', async () => {
    const { gpio, clock, faults, context } = await pi5();
    const barrier = await createGpioBarrier({ mode: 'pulse', open: { bcm: 17, ...high }, pulseMs: 300 }, context);
    await barrier.open();
    gpio.line(BASE + 17).failWrites = Object.assign(new Error('EIO'), { code: 'EIO' });
    await clock.advance(300);
    expect(faults.map((f) => f.message)).toEqual([expect.stringMatching(/barrier.open.*EIO/)]);
  });
});

describe('indicators', () => {
  it('lights one colour at a time; a colour without a pin shows nothing', async () => {
    const { gpio, context } = await pi5();
    const ind = await createGpioIndicators({ lights: { green: { bcm: 23, ...high }, red: { bcm: 24, ...high } }, alarmMs: 5000 }, context);
    const lit = () => [gpio.line(BASE + 23).level, gpio.line(BASE + 24).level];
    await ind.light('green');
    expect(lit()).toEqual([1, 0]);
    await ind.light('red');
    expect(lit()).toEqual([0, 1]);
    await ind.light('amber');
    expect(lit()).toEqual([0, 0]);
  });

  it('beeps the patterns: accept once, refuse twice, attention long', async () => {
    const { gpio, clock, context } = await pi5();
    const ind = await createGpioIndicators({ lights: {}, buzzer: { bcm: 12, ...high }, alarmMs: 5000 }, context);
    const beeps = async (tone: 'accept' | 'refuse' | 'attention') => {
      const from = gpio.timeline(BASE + 12).length;
      const start = clock.at;
      await ind.tone(tone);
      await clock.advance(2000);
      return gpio.timeline(BASE + 12).slice(from).map(([at, level]) => [at - start, level]);
    };
    expect(await beeps('accept')).toEqual([[0, 1], [120, 0]]);
    expect(await beeps('refuse')).toEqual([[0, 1], [120, 0], [220, 1], [340, 0]]);
    expect(await beeps('attention')).toEqual([[0, 1], [600, 0]]);
  });

  it('the alarm repeats for alarmMs and then stops by itself; a new tone cuts it', async () => {
    const { gpio, clock, context } = await pi5();
    const ind = await createGpioIndicators({ lights: {}, buzzer: { bcm: 12, ...high }, alarmMs: 2000 }, context);
    await ind.tone('alarm');
    await clock.advance(10_000);
    const alarm = gpio.timeline(BASE + 12);
    expect(alarm.filter(([, level]) => level === 1)).toHaveLength(4);
    expect(alarm.at(-1)).toEqual([1750, 0]);
    expect(clock.pending()).toBe(0);

    await ind.tone('alarm');
    await clock.advance(100);
    await ind.tone('accept');
    await clock.advance(10_000);
    const after = gpio.timeline(BASE + 12).slice(alarm.length).map(([at, level]) => [at - 10_000, level]);
    expect(after).toEqual([[0, 1], [100, 1], [220, 0]]);
  });

  it('patterns alternate on/off and always end off', () => {
    for (const tone of ['accept', 'refuse', 'attention', 'alarm'] as const) {
      for (const alarmMs of [100, 500, 3000]) {
        const steps = tonePattern(tone, alarmMs);
        expect(steps.length % 2).toBe(1);
        expect(steps.every((ms) => ms > 0)).toBe(true);
        if (tone === 'alarm') expect(steps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(Math.max(alarmMs, 250));
      }
    }
  });
});

describe('passage sensor', () => {
  type Step = ['entry' | 'exit', boolean];
  const passages = (steps: Step[]) => {
    const logic = new BeamPassageLogic();
    return steps.filter(([beam, blocked]) => logic.change(beam, blocked)).length;
  };

  it('counts entry-then-exit episodes only', () => {
    const walk: Step[] = [['entry', true], ['exit', true], ['entry', false], ['exit', false]];
    expect(passages(walk)).toBe(1);
    expect(passages([...walk, ...walk])).toBe(2);
    expect(passages([['entry', true], ['entry', false]])).toBe(0);
    expect(passages([['exit', true], ['entry', true], ['exit', false], ['entry', false]])).toBe(0);
    expect(passages([['entry', true], ['exit', true], ['exit', false], ['entry', false]])).toBe(1);
  });

  it('merges a close follower that keeps a beam blocked into the same passage', () => {
    expect(passages([['entry', true], ['exit', true], ['entry', false], ['entry', true], ['exit', false], ['exit', true], ['entry', false], ['exit', false]])).toBe(1);
  });

  it('beams on pins: active-low sensors, repeats of a level ignored, an episode under way at start not counted', async () => {
    const { gpio, context } = await pi5();
    const entry = { bcm: 5, activeLow: true, debounceMs: 10 };
    const exit = { bcm: 6, activeLow: true, debounceMs: 10 };
    const sensor = await createGpioPassageSensor({ kind: 'beams', entry, exit }, context);
    expect(gpio.line(BASE + 5).request).toEqual({ sysfs: BASE + 5, direction: 'in', debounceMs: 10 });
    const [a, b] = [gpio.line(BASE + 5), gpio.line(BASE + 6)];
    a.level = 1;
    b.level = 0;
    const events: PassageEvent[] = [];
    await sensor.start((e) => events.push(e));
    b.drive(1);
    expect(events).toEqual([]);
    for (const [line, level] of [[a, 0], [a, 0], [b, 0], [b, 0], [a, 1], [b, 1]] as const) line.drive(level);
    expect(events).toEqual([{ type: 'passage' }]);
    await sensor.stop();
    expect([a.exported, b.exported]).toEqual([false, false]);
  });

  it('controller kind: one event per pulse on passage and on tailgate', async () => {
    const { gpio, context } = await pi5();
    const sensor = await createGpioPassageSensor({ kind: 'controller', passage: { bcm: 20, ...high, debounceMs: 5 }, tailgate: { bcm: 21, ...high, debounceMs: 5 } }, context);
    const events: PassageEvent[] = [];
    await sensor.start((e) => events.push(e));
    const [p, t] = [gpio.line(BASE + 20), gpio.line(BASE + 21)];
    for (const [line, level] of [[p, 1], [p, 1], [p, 0], [t, 1], [t, 0], [p, 1], [p, 0]] as const) line.drive(level);
    expect(events.map((e) => e.type)).toEqual(['passage', 'tailgate', 'passage']);
  });

  it('a failed input read goes to the board as a fault', async () => {
    const { gpio, faults, context } = await pi5();
    const sensor = await createGpioPassageSensor({ kind: 'controller', passage: { bcm: 20, ...high, debounceMs: 5 } }, context);
    await sensor.start(() => undefined);
    gpio.line(BASE + 20).fail(Object.assign(new Error('EIO'), { code: 'EIO' }));
    expect(faults[0]?.message).toMatch(/passage.passage \(BCM20/);
  });

  it('a wiring error leaves no pin exported', async () => {
    const { gpio, context } = await pi5();
    gpio.refuse.set(BASE + 6, 'EBUSY');
    await expect(createGpioPassageSensor({ kind: 'beams', entry: { bcm: 5, ...low, debounceMs: 5 }, exit: { bcm: 6, ...low, debounceMs: 5 } }, context)).rejects.toThrow(/passage.exit/);
    expect(gpio.line(BASE + 5).exported).toBe(false);
  });
});

describe('emergency contact', () => {
  it('closed loop is normal, an open (or cut) loop is emergency; the state at start is reported', async () => {
    const { gpio, context } = await pi5();
    const contact = await createGpioEmergencyContact({ input: { bcm: 16, activeLow: false, debounceMs: 50 } }, context);
    const events: EmergencyContactEvent[] = [];
    await contact.start((e) => events.push(e));
    const line = gpio.line(BASE + 16);
    line.drive(1);
    line.drive(1);
    line.drive(0);
    line.fail(Object.assign(new Error('EIO'), { code: 'EIO' }));
    expect(events).toEqual([
      { type: 'state', active: false },
      { type: 'state', active: true },
      { type: 'state', active: false },
      { type: 'health', healthy: false, detail: expect.stringMatching(/emergency \(BCM16/) },
    ]);
    await contact.stop();
    expect(line.exported).toBe(false);
  });

  it('a loop already open at start is an emergency from the first event', async () => {
    const { gpio, context } = await pi5();
    const contact = await createGpioEmergencyContact({ input: { bcm: 16, activeLow: false, debounceMs: 50 } }, context);
    gpio.line(BASE + 16).level = 1;
    const events: EmergencyContactEvent[] = [];
    await contact.start((e) => events.push(e));
    expect(events).toEqual([{ type: 'state', active: true }]);
  });
});
