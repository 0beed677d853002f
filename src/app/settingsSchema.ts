import { z } from 'zod';
import { CARD_APPLICATIONS, DEFAULT_CARD_DEADLINE_MS } from '../core/credentials/cardApplication.js';
import { CATEGORIES } from '../core/credentials/credential.js';
import { isTimeZone } from '../core/policy/localTime.js';
import { DEFAULT_TIMEZONE, DEFAULT_TIMINGS, MODES, type GateSettings } from '../core/settings.js';
import { accessibilitySchema } from './rules/accessibilitySchema.js';
import { accessSchema } from './rules/accessSchema.js';
import { busSchema } from './rules/busSchema.js';
import { metroSchema } from './rules/metroSchema.js';
import { tunionSchema } from './rules/tunionSchema.js';
import { venueSchema } from './rules/venueSchema.js';

const fen = z.number().int().min(0);

/** The `gate` section of a config or scenario file, as a person writes it. */
export const gateSettingsSchema = z
  .strictObject({
    id: z
      .string()
      .min(1)
      .refine((id) => Buffer.byteLength(id, 'utf8') <= 32, 'at most 32 bytes of UTF-8 (it goes into the card challenge)'),
    site: z.string().min(1),
    zone: z.string().min(1).optional(),
    mode: z.enum(MODES),
    categories: z.array(z.enum(CATEGORIES)).min(1).default([...CATEGORIES]),
    fares: z.strictObject({ default: fen, byCategory: z.partialRecord(z.enum(CATEGORIES), fen).default({}) }).optional(),
    skewSec: z.number().min(0).max(3600).default(DEFAULT_TIMINGS.skewSec),
    freshnessSec: z.number().min(1).max(3600).default(DEFAULT_TIMINGS.freshnessSec),
    openTimeoutMs: z.number().int().min(500).max(120_000).default(DEFAULT_TIMINGS.openTimeoutMs),
    doubleTapMs: z.number().int().min(0).max(60_000).default(DEFAULT_TIMINGS.doubleTapMs),
    apduTimeoutMs: z.number().int().min(50).max(10_000).default(DEFAULT_TIMINGS.apduTimeoutMs),
    cardsWhenClockUntrusted: z.boolean().default(true),
    cards: z
      .strictObject({
        applications: z
          .array(z.enum(CARD_APPLICATIONS))
          .min(1)
          .refine((list) => new Set(list).size === list.length, 'each application once')
          .default(['cg', 'uid']),
        deadlineMs: z.number().int().min(100).max(10_000).default(DEFAULT_CARD_DEADLINE_MS),
      })
      .optional(),
    timezone: z.string().refine(isTimeZone, 'an IANA time zone such as Asia/Shanghai').default(DEFAULT_TIMEZONE),
    accessibility: accessibilitySchema.optional(),
    venue: venueSchema.optional(),
    access: accessSchema.optional(),
    bus: busSchema.optional(),
    metro: metroSchema.optional(),
    tunion: tunionSchema.optional(),
  })
  .superRefine((g, context) => {
    // A metro gate prices purse cards from its own station's fare table: without one it could charge nobody right.
    if (g.cards?.applications.includes('tunion') && (g.mode === 'metro-entry' || g.mode === 'metro-exit') && g.tunion?.metro === undefined) {
      context.addIssue({ code: 'custom', path: ['tunion', 'metro'], message: 'a metro gate taking tunion cards needs {station: "0103", fares: {"0101": 400, ...}, penaltyFare: 900}' });
    }
    // Without its allow-list an access gate would let nobody through: say so at start, not at the first tap.
    if (g.mode === 'access' && g.access === undefined) {
      context.addIssue({ code: 'custom', path: ['access'], message: 'mode access needs an access section: {allow: [...], schedules: {...}, visitorIssuers: [...], uidCards: false}' });
    }
  })
  .transform(
    (g): GateSettings => ({
      gateId: g.id,
      site: g.site,
      zone: g.zone,
      mode: g.mode,
      categories: g.categories,
      fares: g.fares,
      skewSec: g.skewSec,
      freshnessSec: g.freshnessSec,
      openTimeoutMs: g.openTimeoutMs,
      doubleTapMs: g.doubleTapMs,
      apduTimeoutMs: g.apduTimeoutMs,
      cardsWhenClockUntrusted: g.cardsWhenClockUntrusted,
      cards: g.cards,
      timezone: g.timezone,
      accessibility: g.accessibility,
      venue: g.venue,
      access: g.access,
      bus: g.bus,
      metro: g.metro,
      tunion: g.tunion ?? (g.cards?.applications.includes('tunion') ? tunionSchema.parse({}) : undefined),
    }),
  );

/** A file a person wrote is wrong; the message names the file, the field, the value and what is allowed. */
export class InputError extends Error {
  override name = 'InputError';
}

/** One message per problem: `file: path.to.field: what is wrong (got value)`. */
export function describeIssues(source: string, error: z.ZodError, input: unknown): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.') || '(top level)';
      const value = issue.path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined), input);
      const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
      return `${source}: ${path}: ${issue.message}${got}`;
    })
    .join('\n');
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new InputError(describeIssues(source, parsed.error, input));
  return parsed.data;
}
