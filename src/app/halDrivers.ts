import { z } from 'zod';
import { createAplaySpeaker, aplaySpeakerSettingsSchema, type AplaySpeakerSettings } from '../../hal/audio/aplaySpeaker.js';
import type { Barrier } from '../../hal/barrier.js';
import { NodeWebcamScanner, nodeWebcamOptionsSchema, type NodeWebcamOptions } from '../../hal/camera/nodeWebcamScanner.js';
import { V4l2CameraScanner, v4l2CameraOptionsSchema, type V4l2CameraOptions } from '../../hal/camera/v4l2CameraScanner.js';
import type { CardReader } from '../../hal/cardReader.js';
import type { Clock } from '../../hal/clock.js';
import type { CodeScanner } from '../../hal/codeScanner.js';
import type { Display } from '../../hal/display.js';
import { BusConsole, busConsoleOptionsSchema, type BusConsoleOptions } from '../../hal/busConsole.js';
import type { EmergencyContact } from '../../hal/emergencyInput.js';
import { NmeaGps, nmeaGpsOptionsSchema, type NmeaGpsOptions } from '../../hal/gps/nmeaGps.js';
import type { LocationSource } from '../../hal/locationSource.js';
import type { Indicators } from '../../hal/indicators.js';
import type { PassageSensor } from '../../hal/passageSensor.js';
import type { Speaker } from '../../hal/speaker.js';
import { PcscCardReader, type PcscReaderOptions } from '../../hal/pcsc/pcscCardReader.js';
import { PcscSamSlot } from '../../hal/pcsc/pcscSamSlot.js';
import type { SamSlot } from '../../hal/samSlot.js';
import { SerialScanner, serialScannerOptionsSchema, type SerialScannerOptions } from '../../hal/serialScanner.js';
import { HEADER_CHIP_LABELS } from '../../hal/gpio/chipBase.js';
import { createGpioBarrier, type GpioBarrierSettings } from '../../hal/gpio/barrier.js';
import { createGpioEmergencyContact } from '../../hal/gpio/emergencyContact.js';
import type { GpioContext } from '../../hal/gpio/gpioContext.js';
import { openGpioPort, type GpioPort } from '../../hal/gpio/gpioPort.js';
import { createGpioIndicators, type GpioIndicatorSettings } from '../../hal/gpio/indicators.js';
import { createGpioPassageSensor, type GpioPassageSettings } from '../../hal/gpio/passageSensor.js';
import { createOledDisplay, type OledDisplaySettings } from '../../hal/i2c/oledDisplay.js';
import { createRtcClock, type RtcClockSettings } from '../../hal/i2c/rtcClock.js';
import type { Driver, DriverContext } from './boardBuilder.js';

const bcm = z.number().int().min(0).max(53);
const outputPin = (defaults: { bcm: number; activeLow: boolean }) => z.strictObject({ bcm: bcm.default(defaults.bcm), activeLow: z.boolean().default(defaults.activeLow) }).prefault({});
const inputPin = z.strictObject({ bcm, activeLow: z.boolean().default(true), debounceMs: z.number().int().min(0).max(1000).default(10) });
const chip = {
  chipLabels: z.array(z.string().min(1)).min(1).default([...HEADER_CHIP_LABELS]),
  sysfsRoot: z.string().min(1).default('/sys'),
};

const gpioBarrier = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('level'), open: outputPin({ bcm: 17, activeLow: true }), close: outputPin({ bcm: 27, activeLow: true }).optional(), ...chip }),
  z.strictObject({ mode: z.literal('pulse'), open: outputPin({ bcm: 17, activeLow: true }), close: outputPin({ bcm: 27, activeLow: true }).optional(), pulseMs: z.number().int().min(20).max(5000).default(300), ...chip }),
]);
const gpioIndicators = z.strictObject({
  lights: z.strictObject({
    green: outputPin({ bcm: 22, activeLow: false }).optional(),
    red: outputPin({ bcm: 23, activeLow: false }).optional(),
    amber: outputPin({ bcm: 24, activeLow: false }).optional(),
    white: outputPin({ bcm: 25, activeLow: false }).optional(),
  }),
  buzzer: outputPin({ bcm: 18, activeLow: false }).optional(),
  alarmMs: z.number().int().min(250).max(60_000).default(5000),
  ...chip,
});
const gpioPassage = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('beams'), entry: inputPin, exit: inputPin, ...chip }),
  z.strictObject({ kind: z.literal('controller'), passage: inputPin, tailgate: inputPin.optional(), ...chip }),
]);
/** The fire-alarm loop (docs/hardware-gpio-i2c.md): high = loop open = emergency, so not active-low. */
const gpioEmergency = z.strictObject({
  input: z.strictObject({ bcm: bcm.default(16), activeLow: z.boolean().default(false), debounceMs: z.number().int().min(0).max(1000).default(50) }).prefault({}),
  ...chip,
});
const oled = z.strictObject({
  bus: z.number().int().min(0).max(20).default(1),
  address: z.number().int().min(0x03).max(0x77).default(0x3c),
  transfer: z.enum(['i2c', 'smbus']).default('i2c'),
  columnOffset: z.number().int().min(0).max(4).default(0),
  flip: z.boolean().default(false),
  pageMs: z.number().int().min(1000).max(30_000).default(3000),
});
const systemClock = z.strictObject({
  toleranceMs: z.number().int().min(100).max(60_000).default(2000),
  checkIntervalMs: z.number().int().min(5000).max(3_600_000).default(60_000),
  rtc: z
    .strictObject({
      bus: z.number().int().min(0).max(20).default(1),
      address: z.number().int().min(0x03).max(0x77).default(0x68),
      forceAccess: z.boolean().default(true),
      minYear: z.number().int().min(2000).max(2100).default(2024),
    })
    .optional(),
});

/** A reader-name pattern from the config, refused at load if it is not a valid regular expression. */
const pattern = z.string().min(1).refine((text) => {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');
const pcscSettings = z.strictObject({
  socket: z.string().min(1).optional(),
  include: pattern.optional(),
  exclude: pattern.optional(),
});

/** `devices.sam` with driver pcsc: the SAM slot's reader by name (a pattern), on the card readers' pcscd. */
const pcscSamSettings = z.strictObject({
  socket: z.string().min(1).optional(),
  reader: pattern,
});

function pcscOptions(s: z.output<typeof pcscSettings>): PcscReaderOptions {
  return {
    ...(s.socket ? { socket: s.socket } : {}),
    ...(s.include ? { include: new RegExp(s.include) } : {}),
    ...(s.exclude ? { exclude: new RegExp(s.exclude) } : {}),
  };
}

/**
 * The real board's drivers, by the names a config file uses. The GPIO chip is
 * opened once and shared by the barrier, lights and sensors of one gate.
 */
export function createHalDrivers() {
  let port: Promise<GpioPort> | undefined;
  const gpio = (settings: { chipLabels: string[]; sysfsRoot: string }, context: DriverContext, device: string): Promise<GpioContext> => {
    port ??= openGpioPort({ chipLabels: settings.chipLabels, sysfsRoot: settings.sysfsRoot });
    return port.then((p) => ({ port: p, clock: context.clock!, onFault: (fault) => context.health.report(device, false, fault.message) }));
  };
  return {
    readers: {
      pcsc: { settings: pcscSettings, create: async (s: z.output<typeof pcscSettings>) => new PcscCardReader(pcscOptions(s)) } satisfies Driver<CardReader>,
    },
    sam: {
      pcsc: { settings: pcscSamSettings, create: async (s: z.output<typeof pcscSamSettings>) => new PcscSamSlot({ reader: new RegExp(s.reader), ...(s.socket ? { socket: s.socket } : {}) }) } satisfies Driver<SamSlot>,
    },
    scanners: {
      serial: { settings: serialScannerOptionsSchema, create: async (s: SerialScannerOptions) => new SerialScanner(s) } satisfies Driver<CodeScanner>,
      v4l2: { settings: v4l2CameraOptionsSchema, create: async (s: V4l2CameraOptions) => new V4l2CameraScanner(s) } satisfies Driver<CodeScanner>,
      'node-webcam': { settings: nodeWebcamOptionsSchema, create: async (s: NodeWebcamOptions) => new NodeWebcamScanner(s) } satisfies Driver<CodeScanner>,
    },
    barrier: {
      gpio: {
        settings: gpioBarrier,
        create: async (s: z.output<typeof gpioBarrier>, c: DriverContext) => createGpioBarrier(s as GpioBarrierSettings, await gpio(s, c, 'barrier')),
      } satisfies Driver<Barrier>,
    },
    indicators: {
      gpio: {
        settings: gpioIndicators,
        create: async (s: z.output<typeof gpioIndicators>, c: DriverContext) => createGpioIndicators(s as GpioIndicatorSettings, await gpio(s, c, 'indicators')),
      } satisfies Driver<Indicators>,
    },
    passage: {
      gpio: {
        settings: gpioPassage,
        create: async (s: z.output<typeof gpioPassage>, c: DriverContext) => createGpioPassageSensor(s as GpioPassageSettings, await gpio(s, c, 'passage')),
      } satisfies Driver<PassageSensor>,
    },
    location: {
      'nmea-gps': { settings: nmeaGpsOptionsSchema, create: async (s: NmeaGpsOptions) => new NmeaGps(s) } satisfies Driver<LocationSource>,
      'bus-console': { settings: busConsoleOptionsSchema, create: async (s: BusConsoleOptions) => new BusConsole(s) } satisfies Driver<LocationSource>,
    },
    emergency: {
      gpio: {
        settings: gpioEmergency,
        create: async (s: z.output<typeof gpioEmergency>, c: DriverContext) => createGpioEmergencyContact(s, await gpio(s, c, 'emergency')),
      } satisfies Driver<EmergencyContact>,
    },
    speaker: {
      aplay: {
        settings: aplaySpeakerSettingsSchema,
        create: async (s: AplaySpeakerSettings, c: DriverContext) => createAplaySpeaker(s, (healthy, detail) => c.health.report('speaker', healthy, detail)),
      } satisfies Driver<Speaker>,
    },
    display: {
      i2c: {
        settings: oled,
        create: async (s: OledDisplaySettings, c: DriverContext) => createOledDisplay(s, { clock: c.clock!, onFault: (fault) => c.health.report('display', false, fault.message) }),
      } satisfies Driver<Display>,
    },
    clock: {
      system: {
        settings: systemClock,
        create: async (s: z.output<typeof systemClock>, c: DriverContext) =>
          createRtcClock({ ...s, rtc: s.rtc } as RtcClockSettings, { onHealth: (h) => c.health.report('clock', h.healthy, h.detail) }),
      } satisfies Driver<Clock>,
    },
  };
}
