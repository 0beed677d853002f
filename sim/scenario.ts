import { z } from 'zod';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { CONTRACT_REASONS, GATE_REASONS } from '../src/core/reasons.js';
import { gateSettingsSchema } from '../src/app/settingsSchema.js';

/*
 * The scenario file: a gate, its issuers, and passengers who present cards and
 * codes at given seconds. Written by hand (docs/scenarios.md); `crowd` adds a
 * seeded mix of passengers for volume.
 */

export const FAULTS = [
  'expired',
  'not-yet-valid',
  'forged',
  'unknown-issuer',
  'unknown-key',
  'cloned',
  'removed',
  'stale',
  'garbage',
  'foreign-card',
] as const;
export type Fault = (typeof FAULTS)[number];
export const CARD_FAULTS: readonly Fault[] = ['expired', 'not-yet-valid', 'forged', 'unknown-issuer', 'unknown-key', 'cloned', 'removed', 'garbage', 'foreign-card'];
export const CODE_FAULTS: readonly Fault[] = ['expired', 'not-yet-valid', 'forged', 'unknown-issuer', 'unknown-key', 'stale'];

const REASON_VALUES = [...CONTRACT_REASONS, ...GATE_REASONS] as const;
export const EXPECTATIONS = ['accepted', 'repeat', ...REASON_VALUES.filter((r) => r !== 'ok')] as const;
export type Expectation = (typeof EXPECTATIONS)[number];

const isoTime = z.iso.datetime({ offset: true });
/** Product times: absolute ISO-8601, or seconds relative to the scenario start. */
const productTime = z.union([isoTime, z.number()]);

const productSchema = z.strictObject({
  site: z.string().min(1).optional(),
  zone: z.string().min(1).optional(),
  from: productTime.optional(),
  until: productTime.optional(),
  entries: z.number().int().min(0).optional(),
});

const cardSchema = z.strictObject({
  issuer: z.string().min(1),
  number: z.string().min(1),
  category: z.enum(CATEGORIES).default('adult'),
  alg: z.enum(['ES256', 'EdDSA']).optional(),
});

const codeSchema = z.strictObject({
  issuer: z.string().min(1),
  account: z.string().min(1),
  category: z.enum(CATEGORIES).default('adult'),
  profile: z.enum(['issuer', 'holder']).default('issuer'),
  product: productSchema.optional(),
});

export const passengerSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    /** Seconds after the scenario start; default: 1.5 s after the previous passenger. */
    at: z.number().min(0).optional(),
    card: cardSchema.optional(),
    code: codeSchema.optional(),
    /** Raw QR text, for malformed input. */
    text: z.string().optional(),
    /** Present again exactly what the named earlier passenger presented. */
    again: z.string().min(1).optional(),
    /** Walks through the lane without presenting anything. */
    sneak: z.literal(true).optional(),
    fault: z.enum(FAULTS).optional(),
    /** Presents the same credential a second time, 1 s later. */
    double: z.boolean().default(false),
    /** Walks through once the barrier opens (default true). */
    walk: z.boolean().default(true),
    expect: z.enum(EXPECTATIONS).optional(),
  })
  .refine((p) => [p.card, p.code, p.text, p.again, p.sneak].filter((x) => x !== undefined).length === 1, {
    message: 'a passenger has exactly one of card, code, text, again, sneak',
  });

export const scenarioSchema = z
  .strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  start: isoTime.default('2026-11-23T07:30:00Z'),
  gate: gateSettingsSchema,
  issuers: z
    .array(z.strictObject({ id: z.string().min(1), alg: z.enum(['ES256', 'EdDSA']).default('ES256') }))
    .min(1),
  denyList: z.record(z.string(), z.array(z.string().min(1))).default({}),
  passengers: z.array(passengerSchema).default([]),
  crowd: z
    .strictObject({
      count: z.number().int().min(1).max(100_000),
      /** Seconds between two passengers of the crowd. */
      every: z.number().min(0.1).default(1.5),
      seed: z.number().int().default(1),
    })
    .optional(),
  })
  .superRefine((scenario, ctx) => {
    // Names a passenger refers to must exist, so that a typo fails at load, not mid-run.
    const issuers = new Set(scenario.issuers.map((i) => i.id));
    const allowed = [...issuers].map((id) => JSON.stringify(id)).join(', ');
    for (const id of Object.keys(scenario.denyList)) {
      if (!issuers.has(id)) ctx.addIssue({ code: 'custom', path: ['denyList', id], message: `not one of the scenario's issuers (${allowed})` });
    }
    const seen = new Set<string>();
    scenario.passengers.forEach((p, i) => {
      const issuer = p.card?.issuer ?? p.code?.issuer;
      if (issuer !== undefined && !issuers.has(issuer)) {
        ctx.addIssue({ code: 'custom', path: ['passengers', i, p.card ? 'card' : 'code', 'issuer'], message: `not one of the scenario's issuers (${allowed})` });
      }
      const fits = p.card ? CARD_FAULTS : p.code ? CODE_FAULTS : [];
      if (p.fault !== undefined && !fits.includes(p.fault)) {
        const what = p.card ? 'a card' : p.code ? 'a code' : 'this passenger';
        ctx.addIssue({ code: 'custom', path: ['passengers', i, 'fault'], message: `not a fault of ${what}${fits.length ? ` (${fits.join(', ')})` : ''}` });
      }
      if (p.again !== undefined && !seen.has(p.again)) {
        ctx.addIssue({ code: 'custom', path: ['passengers', i, 'again'], message: 'names no earlier passenger' });
      }
      seen.add(p.name ?? `p${i + 1}`);
    });
  });

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioPassenger = z.output<typeof passengerSchema>;
export type ProductSpec = z.output<typeof productSchema>;
