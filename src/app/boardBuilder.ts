import type { z } from 'zod';
import type { Barrier } from '../../hal/barrier.js';
import type { Board } from '../../hal/board.js';
import type { CardReader } from '../../hal/cardReader.js';
import type { Clock } from '../../hal/clock.js';
import type { CodeScanner } from '../../hal/codeScanner.js';
import type { Display } from '../../hal/display.js';
import type { EmergencyContact } from '../../hal/emergencyInput.js';
import type { LocationSource } from '../../hal/locationSource.js';
import type { Indicators } from '../../hal/indicators.js';
import type { PassageSensor } from '../../hal/passageSensor.js';
import type { SamSlot } from '../../hal/samSlot.js';
import type { Speaker } from '../../hal/speaker.js';
import type { Log } from '../core/log.js';
import { absentDisplay, absentIndicators, absentPassage } from './absentDevices.js';
import type { DeviceEntry, GateConfig } from './config.js';
import { describeIssues, InputError } from './settingsSchema.js';

/**
 * Device health from drivers whose interface has no health channel (relays,
 * display, clock): held until the gate is built, then passed on to it.
 */
export class HealthRelay {
  private sink: ((device: string, healthy: boolean, detail: string) => void) | undefined;
  private readonly pending: [string, boolean, string][] = [];

  report(device: string, healthy: boolean, detail: string): void {
    if (this.sink) this.sink(device, healthy, detail);
    else this.pending.push([device, healthy, detail]);
  }

  attach(sink: (device: string, healthy: boolean, detail: string) => void): void {
    this.sink = sink;
    for (const entry of this.pending.splice(0)) sink(...entry);
  }
}

export interface DriverContext {
  log: Log;
  gateId: string;
  health: HealthRelay;
  /** The board's clock, for drivers that time things; absent while the clock itself is built. */
  clock: Clock | undefined;
}

/** A driver: its settings schema (the device entry minus `driver`) and how to make the device. */
export interface Driver<T> {
  settings: z.ZodType;
  create(settings: never, context: DriverContext): Promise<T>;
}

export interface DriverRegistry {
  readers: Record<string, Driver<CardReader>>;
  scanners: Record<string, Driver<CodeScanner>>;
  barrier: Record<string, Driver<Barrier>>;
  passage: Record<string, Driver<PassageSensor>>;
  indicators: Record<string, Driver<Indicators>>;
  display: Record<string, Driver<Display>>;
  clock: Record<string, Driver<Clock>>;
  emergency: Record<string, Driver<EmergencyContact>>;
  location: Record<string, Driver<LocationSource>>;
  speaker: Record<string, Driver<Speaker>>;
  /** The PSAM slot (T-Union purse cards); a registry without SAM drivers takes no `devices.sam`. */
  sam?: Record<string, Driver<SamSlot>>;
}

/** A device the gate cannot serve without (clock, barrier) did not start; the message is for the technician. */
export class DeviceStartError extends Error {
  override name = 'DeviceStartError';
}

async function essential<T>(device: string, p: Planned<T>, context: DriverContext): Promise<T> {
  try {
    return await create(p, context);
  } catch (error) {
    throw new DeviceStartError(`devices.${device}: the ${p.name} driver did not start, and the gate cannot serve without it: ${(error as Error).message}`);
  }
}

/** A device that did not start; the gate runs without it and says so in its status. */
export interface DeviceProblem {
  device: string;
  detail: string;
}

export interface BuiltBoard {
  board: Board;
  problems: DeviceProblem[];
  health: HealthRelay;
  /** Not the gate's: the bus rules' route and stop come from these (src/app/daemon.ts). */
  locations: LocationSource[];
}

interface Planned<T> {
  name: string;
  driver: Driver<T>;
  settings: unknown;
}

/** Check a device entry against its driver's schema: a config error names the field, before anything starts. */
function plan<T>(drivers: Record<string, Driver<T>>, entry: DeviceEntry, where: string, source: string): Planned<T> {
  const driver = drivers[entry.driver];
  if (!driver) {
    throw new InputError(`${source}: ${where}.driver: ${JSON.stringify(entry.driver)} is not a driver here; allowed: ${Object.keys(drivers).join(', ')}`);
  }
  const { driver: _name, ...rest } = entry;
  const parsed = driver.settings.safeParse(rest);
  if (!parsed.success) {
    const prefixed = describeIssues(`${source}: ${where}`, parsed.error, rest).replaceAll(`${source}: ${where}: `, `${source}: ${where}.`);
    throw new InputError(prefixed);
  }
  return { name: entry.driver, driver, settings: parsed.data };
}

async function create<T>(p: Planned<T>, context: DriverContext): Promise<T> {
  return p.driver.create(p.settings as never, context);
}

/** Every device entry checked against its driver's schema, in the order the board is built. */
function planBoard(d: GateConfig['devices'], registry: DriverRegistry, source: string) {
  return {
    readers: d.readers.map((e, i) => plan(registry.readers, e, `devices.readers[${i}]`, source)),
    scanners: d.scanners.map((e, i) => plan(registry.scanners, e, `devices.scanners[${i}]`, source)),
    clockPlan: plan(registry.clock, d.clock, 'devices.clock', source),
    barrierPlan: plan(registry.barrier, d.barrier, 'devices.barrier', source),
    passagePlan: plan(registry.passage, d.passage, 'devices.passage', source),
    indicatorsPlan: plan(registry.indicators, d.indicators, 'devices.indicators', source),
    displayPlan: plan(registry.display, d.display, 'devices.display', source),
    emergencyPlan: d.emergency ? plan(registry.emergency, d.emergency, 'devices.emergency', source) : undefined,
    speakerPlan: d.speaker ? plan(registry.speaker, d.speaker, 'devices.speaker', source) : undefined,
    locationPlans: d.location.map((e, i) => plan(registry.location, e, `devices.location[${i}]`, source)),
    samPlan: d.sam ? plan(registry.sam ?? {}, d.sam, 'devices.sam', source) : undefined,
  };
}

/**
 * Check every device entry against its driver, opening nothing: the InputError
 * that run, selftest, status and provision all give for a wrong driver or setting.
 */
export function checkDevices(devices: GateConfig['devices'], registry: DriverRegistry, source: string): void {
  planBoard(devices, registry, source);
}

/**
 * Build the board from the config's `devices`. Every entry is validated
 * first; then the clock and barrier must start (a gate cannot serve without
 * them), while readers, scanners, sensors, lights, display, fire-alarm contact
 * and speaker that fail are left out and reported, so a gate with a dead
 * reader still takes codes.
 */
export async function buildBoard(config: GateConfig, registry: DriverRegistry, log: Log, source: string): Promise<BuiltBoard> {
  const { readers, scanners, clockPlan, barrierPlan, passagePlan, indicatorsPlan, displayPlan, emergencyPlan, speakerPlan, locationPlans, samPlan } = planBoard(config.devices, registry, source);

  const gateId = config.gate.gateId;
  const health = new HealthRelay();
  const clock = await essential('clock', clockPlan, { log, gateId, health, clock: undefined });
  const context: DriverContext = { log, gateId, health, clock };
  const barrier = await essential('barrier', barrierPlan, context);
  const problems: DeviceProblem[] = [];
  const optional = async <T>(device: string, p: Planned<T>): Promise<T | undefined> => {
    try {
      return await create(p, context);
    } catch (error) {
      const detail = `${p.name} driver did not start: ${(error as Error).message}`;
      log.error({ device, detail }, 'device unavailable; running without it');
      problems.push({ device, detail });
      return undefined;
    }
  };
  const board: Board = {
    clock,
    barrier,
    readers: [],
    scanners: [],
    passage: (await optional('passage', passagePlan)) ?? absentPassage,
    indicators: (await optional('indicators', indicatorsPlan)) ?? absentIndicators,
    display: (await optional('display', displayPlan)) ?? absentDisplay,
    emergency: emergencyPlan && (await optional('emergency', emergencyPlan)),
    speaker: speakerPlan && (await optional('speaker', speakerPlan)),
    // A SAM slot that cannot start leaves the gate without purse cards (refused psam-unavailable), nothing else.
    sam: samPlan && (await optional('psam', samPlan)),
  };
  for (const [i, p] of readers.entries()) {
    const reader = await optional(`reader:${i}`, p);
    if (reader) board.readers.push(reader);
  }
  for (const [i, p] of scanners.entries()) {
    const scanner = await optional(`scanner:${i}`, p);
    if (scanner) board.scanners.push(scanner);
  }
  const locations: LocationSource[] = [];
  for (const [i, p] of locationPlans.entries()) {
    const location = await optional(`location:${i}`, p);
    if (location) locations.push(location);
  }
  return { board, problems, health, locations };
}
