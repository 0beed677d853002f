import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { gateSettingsSchema, InputError, parseWith } from './settingsSchema.js';

/** A device entry before its driver's own schema has read it: `driver` plus that driver's settings. */
const deviceEntry = z.looseObject({ driver: z.string().min(1) });
const simDevice = { driver: 'sim' } as const;

const brokerUrl = z
  .string()
  .refine((url) => /^(mqtts?|wss?):\/\/[^\s]+$/.test(url), 'a broker URL such as mqtts://broker.example:8883 (mqtt, mqtts, ws or wss)');

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** The gate's one config file (JSON): which gate it is, where it keeps state, its broker and its devices. */
export const configSchema = z
  .strictObject({
  gate: gateSettingsSchema,
  paths: z
    .strictObject({
      state: z.string().min(1).default('/var/lib/citygate'),
      trust: z.string().min(1).default('/etc/citygate/trust.json'),
      /** Bank cards: the schemes' CA public keys (DESIGN.md §5) and the fleet's card token key. */
      capk: z.string().min(1).optional(),
      tokenKey: z.string().min(1).optional(),
    })
    .default({ state: '/var/lib/citygate', trust: '/etc/citygate/trust.json' }),
  sync: z
    .strictObject({
      broker: brokerUrl,
      tls: z.strictObject({ ca: z.string().min(1).optional(), cert: z.string().min(1).optional(), key: z.string().min(1).optional(), deviceCa: z.string().min(1).optional() }).optional(),
      retentionDays: z.number().int().min(1).max(3650).default(30),
      batchSize: z.number().int().min(1).max(5000).default(500),
      window: z.number().int().min(1).max(64).default(8),
      ackTimeoutMs: z.number().int().min(1000).max(600_000).default(10_000),
    })
    .optional(),
  devices: z
    .strictObject({
      readers: z.array(deviceEntry).default([]),
      scanners: z.array(deviceEntry).default([]),
      barrier: deviceEntry.default(simDevice),
      passage: deviceEntry.default(simDevice),
      indicators: deviceEntry.default(simDevice),
      display: deviceEntry.default(simDevice),
      clock: deviceEntry.default({ driver: 'system' }),
      /** Fitted on some gates only: absent means none. */
      emergency: deviceEntry.optional(),
      speaker: deviceEntry.optional(),
      /** The PSAM slot where T-Union purse cards are debited (docs/config.md). */
      sam: deviceEntry.optional(),
      /** Where a bus is: GPS receivers and the driver's console. */
      location: z.array(deviceEntry).default([]),
    })
    .default({ readers: [], scanners: [], barrier: simDevice, passage: simDevice, indicators: simDevice, display: simDevice, clock: { driver: 'system' }, location: [] }),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).default({ level: 'info' }),
  /** Prometheus endpoint; loopback only (port 0: any free port, logged at start). */
  metrics: z
    .strictObject({ host: z.enum(['127.0.0.1', '::1']).default('127.0.0.1'), port: z.number().int().min(0).max(65_535).default(9464) })
    .default({ host: '127.0.0.1', port: 9464 }),
  })
  .superRefine((config, context) => {
    // A bank card needs the CA keys to be proved genuine and the token key to be named without its PAN.
    if (!config.gate.cards?.applications.includes('qpboc')) return;
    if (config.paths.capk === undefined) context.addIssue({ code: 'custom', path: ['paths', 'capk'], message: 'gate.cards.applications has qpboc: name the CA public key file (capk.json)' });
    if (config.paths.tokenKey === undefined) context.addIssue({ code: 'custom', path: ['paths', 'tokenKey'], message: 'gate.cards.applications has qpboc: name the card token key file (64 hex digits, from fleet ops)' });
  });

export type GateConfig = z.output<typeof configSchema>;
export type DeviceEntry = z.output<typeof deviceEntry>;

/** Environment overrides a technician or the unit file may set without editing the file. */
const ENV_OVERRIDES = { CITYGATE_BROKER_URL: 'sync.broker', CITYGATE_LOG_LEVEL: 'log.level' } as const;

function applyEnv(document: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const [section, field] = path.split('.') as [string, string];
    const current = document[section];
    document[section] = { ...(current !== null && typeof current === 'object' ? current : {}), [field]: value };
  }
}

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): GateConfig {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(code ? `cannot read config ${path}: ${code}` : `config ${path} is not JSON: ${(error as Error).message}`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new InputError(`config ${path}: the top level must be an object`);
  applyEnv(document as Record<string, unknown>, env);
  return parseWith(configSchema, document, path);
}
