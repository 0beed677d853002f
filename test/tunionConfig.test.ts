import { describe, expect, it } from 'vitest';
import { driverRegistry } from '../bin/driverRegistry.js';
import { checkDevices } from '../src/app/boardBuilder.js';
import { configSchema } from '../src/app/config.js';
import { InputError, parseWith } from '../src/app/settingsSchema.js';
import { psamCheck } from '../provisioning/psamCheck.js';
import { VirtualPsam } from '../sim/tunion/virtualPsam.js';
import { VirtualSamSlot } from '../sim/tunion/virtualSamSlot.js';

const base = { id: 'G1', site: 's1', cards: { applications: ['tunion', 'cg'] } };

describe('T-Union config (gate.tunion, devices.sam)', () => {
  it('defaults gate.tunion when a bus gate takes tunion cards, and maps card types', () => {
    const plain = parseWith(configSchema, { gate: { ...base, mode: 'bus' } }, 'config.json');
    expect(plain.gate.tunion).toEqual({ cardTypes: {}, defaultCategory: 'adult', keyIndex: 1, city: '0000', pendingWindowMin: 10, metro: undefined });
    const typed = parseWith(configSchema, { gate: { ...base, mode: 'bus', tunion: { cardTypes: { '02': 'student' }, city: '4000' } } }, 'config.json');
    expect(typed.gate.tunion).toMatchObject({ cardTypes: { '02': 'student' }, city: '4000' });
  });

  it('refuses a metro gate taking tunion cards without its fare table, and bad codes, naming the field', () => {
    expect(() => parseWith(configSchema, { gate: { ...base, mode: 'metro-exit', metro: { station: 'S1' } } }, 'config.json')).toThrow(/gate\.tunion\.metro: a metro gate taking tunion cards needs/);
    expect(() => parseWith(configSchema, { gate: { ...base, mode: 'bus', tunion: { cardTypes: { '2': 'student' } } } }, 'config.json')).toThrow(/gate\.tunion\.cardTypes\.2: the card type "2" is not two upper-case hex digits/);
    expect(() => parseWith(configSchema, { gate: { ...base, mode: 'metro-entry', metro: { station: 'S1' }, tunion: { metro: { station: '103', fares: {}, penaltyFare: 900 } } } }, 'config.json')).toThrow(InputError);
  });

  it('checks devices.sam against its driver: pcsc needs the SAM reader named', async () => {
    const registry = await driverRegistry();
    const devices = (sam: object) => parseWith(configSchema, { gate: { ...base, mode: 'bus' }, devices: { sam } }, 'config.json').devices;
    expect(() => checkDevices(devices({ driver: 'pcsc' }), registry, 'config.json')).toThrow(/devices\.sam\.reader/);
    expect(() => checkDevices(devices({ driver: 'gpio' }), registry, 'config.json')).toThrow(/devices\.sam\.driver: "gpio" is not a driver here; allowed: pcsc/);
    expect(() => checkDevices(devices({ driver: 'pcsc', reader: 'SAM' }), registry, 'config.json')).not.toThrow();
  });

  it('selftest reads the PSAM as the gate will: its terminal id, or why not', async () => {
    const config = parseWith(configSchema, { gate: { ...base, mode: 'bus' } }, 'config.json');
    expect(await psamCheck(config, new VirtualSamSlot(new VirtualPsam()), 1_000)).toEqual({ name: 'psam', result: 'pass', detail: 'terminal id 000000012345 in sim SAM slot' });
    expect(await psamCheck(config, new VirtualSamSlot(undefined), 200)).toMatchObject({ name: 'psam', result: 'fail', detail: expect.stringContaining('no PSAM in the slot') });
    expect(await psamCheck(config, undefined, 200)).toMatchObject({ result: 'warn', detail: expect.stringContaining('no devices.sam') });
    const noPurse = parseWith(configSchema, { gate: { id: 'G1', site: 's1', mode: 'bus' } }, 'config.json');
    expect(await psamCheck(noPurse, undefined, 200)).toBeUndefined();
  });
});
