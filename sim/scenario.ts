import { z } from 'zod';
import { PROMPTS } from '../hal/speaker.js';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { TRANSPORT_ISSUER } from '../src/core/credentials/transport/transportIssuer.js';
import { trustListSchema } from '../src/core/credentials/trustList.js';
import type { Alarm } from '../src/core/gate.js';
import { CONTRACT_REASONS, GATE_REASONS } from '../src/core/reasons.js';
import { MODES, type GateMode } from '../src/core/settings.js';
import { gateSettingsSchema } from '../src/app/settingsSchema.js';

/*
 * The scenario file: a gate, its issuers, and a timeline of passengers who
 * present cards and codes at given seconds, with events between them (a bus
 * reaching a stop, the fire alarm, a mode change). Written by hand
 * (docs/scenarios.md); `crowd` adds a seeded mix of passengers for volume.
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
  'tampered',
  'foreign-scheme',
  'revoked',
  'torn',
] as const;
export type Fault = (typeof FAULTS)[number];
export const CARD_FAULTS: readonly Fault[] = ['expired', 'not-yet-valid', 'forged', 'unknown-issuer', 'unknown-key', 'cloned', 'removed', 'garbage', 'foreign-card'];
export const CODE_FAULTS: readonly Fault[] = ['expired', 'not-yet-valid', 'forged', 'unknown-issuer', 'unknown-key', 'stale'];
export const BANK_CARD_FAULTS: readonly Fault[] = ['cloned', 'tampered', 'expired', 'unknown-key', 'removed', 'foreign-scheme', 'revoked'];
/** `torn`: pulled away as the card answers DEBIT (it has paid; the gate never heard). */
export const PURSE_CARD_FAULTS: readonly Fault[] = ['cloned', 'expired', 'removed', 'torn'];
export const TRANSPORT_FAULTS: readonly Fault[] = ['expired', 'not-yet-valid', 'forged', 'unknown-issuer', 'unknown-key', 'stale', 'tampered', 'garbage'];

const REASON_VALUES = [...CONTRACT_REASONS, ...GATE_REASONS] as const;
export const EXPECTATIONS = ['accepted', 'repeat', ...REASON_VALUES.filter((r) => r !== 'ok')] as const;
export type Expectation = (typeof EXPECTATIONS)[number];

const isoTime = z.iso.datetime({ offset: true });
const fen = z.number().int().min(0);
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

/** The issuer of every bank card, as the gate names them (docs/credentials.md): the deny list's key for bank cards. */
export const BANK_CARD_ISSUER = 'emv';
/** A bank card in the deny list by its PAN (12 to 19 digits), optionally with its PSN (`PAN:NN`): the runner makes it the token. */
export const DENIED_PAN = /^(\d{12,19})(?::(\d{2}))?$/;
/** A bank card in the deny list by its token, as the gate computes it: 16 bytes in lower-case hex. */
export const DENIED_TOKEN = /^[0-9a-f]{32}$/;

/** A UnionPay QuickPass bank card, made under the run's test CA of that algorithm (sim/emv). */
const bankCardSchema = z.strictObject({
  algorithm: z.enum(['RSA', 'SM2']),
  pan: z.string().regex(/^\d{12,19}$/, 'a PAN: 12 to 19 digits (the first six are the BIN of the card\'s issuer)'),
  psn: z.string().regex(/^\d{2}$/, 'a PAN sequence number: two digits').default('01'),
});

/** A national transport QR code (交通一卡通二维码) from a rider's phone, under the run's test root and issuer (sim/scenarioTransport.ts). */
const transportSchema = z.strictObject({
  account: z.string().regex(/^[0-9A-Fa-f]{20}$/, 'an account number: 10 bytes as 20 hex digits'),
  version: z.enum(['80', '81']).default('80'),
  category: z.enum(['adult', 'student', 'senior']).default('adult'),
  /** The single-trip limit the issuer authorised, in fen. */
  limit: fen.max(0xffffff).default(2_000),
});

/** A T-Union purse card (sim/tunion): its number, and at its first presentation its balance, card type and purse algorithm. */
const purseCardSchema = z.strictObject({
  number: z.string().regex(/^\d{20}$/, 'a T-Union card number: 20 digits'),
  balance: fen.default(5_000),
  type: z.string().regex(/^[0-9A-F]{2}$/, 'the card type: two upper-case hex digits (gate.tunion.cardTypes maps it to a category)').default('01'),
  algorithm: z.enum(['3des', 'sm4']).default('3des'),
});

/** A transport account in the deny list: its number, 20 hex digits. */
export const DENIED_ACCOUNT = /^[0-9A-Fa-f]{20}$/;

/** A UID-only access card answers `FF CA 00 00 00` with 4, 7 or 10 bytes (ISO 14443-3). */
const uidSchema = z
  .string()
  .regex(/^(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$/, 'a card UID in hex: 4, 7 or 10 bytes (8, 14 or 20 hex digits)');

const placeSchema = z.strictObject({
  operator: z.string().min(1).optional(),
  route: z.string().min(1).optional(),
  stop: z.string().min(1).optional(),
  station: z.string().min(1).optional(),
});

/** The alarms a passenger may be expected to raise. */
export const ALARMS = ['tailgate', 'journal-unavailable', 'device'] as const satisfies readonly Alarm['type'][];

export const passengerSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    /** Seconds after the scenario start; default: 1.5 s after the previous entry of the timeline. */
    at: z.number().min(0).optional(),
    card: cardSchema.optional(),
    code: codeSchema.optional(),
    /** A UID-only access card (no CG application): its UID in hex. */
    uid: uidSchema.optional(),
    /** A UnionPay QuickPass bank card (the gate is then built with bank keys). */
    bankCard: bankCardSchema.optional(),
    /** A national transport QR code (the gate's trust list then has the run's transport root). */
    transport: transportSchema.optional(),
    /** A T-Union purse card (the gate then takes them, with a virtual PSAM in its SAM slot). */
    purseCard: purseCardSchema.optional(),
    /** Raw QR text, for malformed input and codes made elsewhere. */
    text: z.string().optional(),
    /** Present again exactly what the named earlier passenger presented. */
    again: z.string().min(1).optional(),
    /** Walks through the lane without presenting anything. */
    sneak: z.literal(true).optional(),
    fault: z.enum(FAULTS).optional(),
    /** Presents the same credential a second time, 1 s later. */
    double: z.boolean().default(false),
    /**
     * Who walks through once the barrier opens: true = one person per passage
     * granted, false = nobody, a number = that many people (more than granted
     * are tailgaters). For a sneak: how many people slip through.
     */
    walk: z.union([z.boolean(), z.number().int().min(0).max(50)]).default(true),
    expect: z.enum(EXPECTATIONS).optional(),
    /** The fare of the tap in fen; null: none charged. */
    expectFare: fen.nullable().optional(),
    expectCategory: z.enum(CATEGORIES).nullable().optional(),
    /** The place the tap records; null: none. */
    expectPlace: placeSchema.nullable().optional(),
    /** Barrier `open` commands from this passenger's presentation until the next entry of the timeline. */
    expectOpenings: z.number().int().min(0).optional(),
    /** Alarms raised in the same span, in order. */
    expectAlarms: z.array(z.enum(ALARMS)).optional(),
    /** Voice prompts spoken in the same span, in order (the sound files' ids). */
    expectSaid: z.array(z.enum(PROMPTS)).optional(),
    /** Texts the passenger's screen shows after the (first) presentation: each must be part of a line, in Chinese or English. */
    expectShown: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((p) => [p.card, p.code, p.uid, p.bankCard, p.transport, p.purseCard, p.text, p.again, p.sneak].filter((x) => x !== undefined).length === 1, {
    message: 'a passenger has exactly one of card, code, uid, bankCard, transport, purseCard, text, again, sneak',
  });

const eventTime = {
  name: z.string().min(1).optional(),
  at: z.number().min(0).optional(),
};

/** Something that happens to the gate between passengers. */
export const eventSchema = z.discriminatedUnion('event', [
  /** The bus reaches a stop (the driver console or the GPS says so). */
  z.strictObject({ ...eventTime, event: z.literal('stop'), stop: z.string().min(1), route: z.string().min(1).optional() }),
  /** Emergency release on or off: by the fire-alarm contact (default) or by a fleet command. */
  z.strictObject({ ...eventTime, event: z.literal('emergency'), on: z.boolean(), by: z.enum(['contact', 'command']).default('contact') }),
  /** A signed fleet command puts the gate in another mode. */
  z.strictObject({ ...eventTime, event: z.literal('set-mode'), mode: z.enum(MODES) }),
]);

/** An entry of the timeline is an event when it has an `event` field, else a passenger. */
const timelineEntry = z.unknown().transform((entry, ctx) => {
  const schema = entry !== null && typeof entry === 'object' && 'event' in entry ? eventSchema : passengerSchema;
  const parsed = schema.safeParse(entry);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message });
  return z.NEVER;
});

export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    start: isoTime.default('2026-11-23T07:30:00Z'),
    gate: gateSettingsSchema,
    /** Test issuers made for the run (fresh keys each run). */
    issuers: z
      .array(z.strictObject({ id: z.string().min(1), alg: z.enum(['ES256', 'EdDSA']).default('ES256') }))
      .default([]),
    /** More trusted issuers, as a trust list (DESIGN.md §2): for codes made elsewhere, presented as `text`. */
    trust: trustListSchema.optional(),
    denyList: z.record(z.string(), z.array(z.string().min(1))).default({}),
    /** Passengers and events, in time order. */
    passengers: z.array(timelineEntry).default([]),
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
    const transportCodes = scenario.passengers.some((entry) => !('event' in entry) && entry.transport !== undefined);
    if (issuers.size === 0 && !scenario.trust?.issuers.length && !transportCodes) {
      ctx.addIssue({ code: 'custom', path: ['issuers'], message: 'a scenario needs at least one issuer, in issuers or in trust' });
    }
    scenario.trust?.issuers.forEach((issuer, i) => {
      if (issuers.has(issuer.id)) ctx.addIssue({ code: 'custom', path: ['trust', 'issuers', i, 'id'], message: 'already one of the scenario\'s test issuers' });
    });
    const trusted = new Set([...issuers, ...(scenario.trust?.issuers.map((i) => i.id) ?? [])]);
    const bankCards = scenario.passengers.some((entry) => !('event' in entry) && entry.bankCard !== undefined);
    if (bankCards && trusted.has(BANK_CARD_ISSUER)) {
      ctx.addIssue({ code: 'custom', path: [scenario.issuers.some((i) => i.id === BANK_CARD_ISSUER) ? 'issuers' : 'trust'], message: `"${BANK_CARD_ISSUER}" is the issuer of bank cards: give the test issuer another id` });
    }
    for (const [id, entries] of Object.entries(scenario.denyList)) {
      if (id === TRANSPORT_ISSUER) {
        if (!transportCodes) ctx.addIssue({ code: 'custom', path: ['denyList', id], message: 'deny-lists transport accounts, but no passenger presents a transport code' });
        entries.forEach((entry, j) => {
          if (!DENIED_ACCOUNT.test(entry)) ctx.addIssue({ code: 'custom', path: ['denyList', id, j], message: 'a transport account number: 20 hex digits' });
        });
      } else if (id === BANK_CARD_ISSUER && !trusted.has(id)) {
        if (!bankCards) ctx.addIssue({ code: 'custom', path: ['denyList', id], message: 'deny-lists bank cards, but no passenger presents a bankCard' });
        entries.forEach((entry, j) => {
          if (!DENIED_PAN.test(entry) && !DENIED_TOKEN.test(entry)) {
            ctx.addIssue({ code: 'custom', path: ['denyList', id, j], message: "a bank card's PAN (12 to 19 digits), PAN:PSN (PSN two digits), or its token (32 lower-case hex digits)" });
          }
        });
      } else if (!trusted.has(id)) {
        const names = [...trusted, ...(bankCards ? [BANK_CARD_ISSUER] : []), ...(transportCodes ? [TRANSPORT_ISSUER] : [])].map((t) => JSON.stringify(t)).join(', ');
        ctx.addIssue({ code: 'custom', path: ['denyList', id], message: `not one of the scenario's issuers (${names})` });
      }
    }
    // One physical card per PAN and PSN: it cannot be an RSA card here and an SM2 card there.
    const bankCardAlgorithms = new Map<string, { algorithm: string; name: string }>();
    const seen = new Set<string>();
    scenario.passengers.forEach((entry, i) => {
      if ('event' in entry) return;
      const p = entry;
      const issuer = p.card?.issuer ?? p.code?.issuer;
      if (issuer !== undefined && !issuers.has(issuer)) {
        ctx.addIssue({ code: 'custom', path: ['passengers', i, p.card ? 'card' : 'code', 'issuer'], message: `not one of the scenario's issuers (${allowed})` });
      }
      if (p.bankCard) {
        const card = `${p.bankCard.pan}:${p.bankCard.psn}`;
        const first = bankCardAlgorithms.get(card);
        if (first && first.algorithm !== p.bankCard.algorithm) {
          ctx.addIssue({ code: 'custom', path: ['passengers', i, 'bankCard', 'algorithm'], message: `PAN ${p.bankCard.pan} PSN ${p.bankCard.psn} is the ${first.algorithm} card of passenger "${first.name}": one card, one algorithm (give this one another PAN or PSN)` });
        }
        if (!first) bankCardAlgorithms.set(card, { algorithm: p.bankCard.algorithm, name: p.name ?? `p${i + 1}` });
      }
      const fits = p.card ? CARD_FAULTS : p.code ? CODE_FAULTS : p.bankCard ? BANK_CARD_FAULTS : p.transport ? TRANSPORT_FAULTS : p.purseCard ? PURSE_CARD_FAULTS : [];
      if (p.fault !== undefined && !fits.includes(p.fault)) {
        const what = p.card ? 'a card' : p.code ? 'a code' : p.bankCard ? 'a bank card' : p.transport ? 'a transport code' : p.purseCard ? 'a purse card' : p.uid !== undefined ? 'a UID card' : 'this passenger';
        ctx.addIssue({ code: 'custom', path: ['passengers', i, 'fault'], message: `not a fault of ${what}${fits.length ? ` (${fits.join(', ')})` : ''}` });
      }
      if (p.again !== undefined && !seen.has(p.again)) {
        ctx.addIssue({ code: 'custom', path: ['passengers', i, 'again'], message: 'names no earlier passenger' });
      }
      if (p.sneak) {
        for (const field of ['expect', 'expectFare', 'expectCategory', 'expectPlace', 'expectShown'] as const) {
          if (p[field] !== undefined) ctx.addIssue({ code: 'custom', path: ['passengers', i, field], message: 'a passenger who presents nothing makes no tap to expect this of' });
        }
      }
      const refused = p.expect !== undefined && p.expect !== 'accepted' && p.expect !== 'repeat';
      if (refused && p.expectFare !== undefined && p.expectFare !== null) {
        ctx.addIssue({ code: 'custom', path: ['passengers', i, 'expectFare'], message: `a refused tap (${p.expect}) charges nothing: null` });
      }
      seen.add(p.name ?? `p${i + 1}`);
    });
    checkEvents(scenario, ctx);
  });

/** Events must make sense where they fall: a stop only while the gate is a bus, no emergency turned on twice. */
function checkEvents(scenario: { gate: { mode: GateMode; bus?: unknown }; passengers: (ScenarioPassenger | ScenarioEvent)[] }, ctx: z.RefinementCtx): void {
  let mode = scenario.gate.mode;
  const emergency = { contact: false, command: false };
  for (const { entry, index } of inTimeOrder(scenario.passengers)) {
    if (!('event' in entry)) continue;
    if (entry.event === 'set-mode') mode = entry.mode;
    else if (entry.event === 'stop' && scenario.gate.bus === undefined) {
      ctx.addIssue({ code: 'custom', path: ['passengers', index, 'event'], message: 'a stop needs a gate.bus section (operator, route, ...) to set it in' });
    } else if (entry.event === 'stop' && mode !== 'bus') {
      ctx.addIssue({ code: 'custom', path: ['passengers', index, 'event'], message: `a stop needs the gate in bus mode; at this time it is ${mode} (set gate.mode or add a set-mode event before)` });
    } else if (entry.event === 'emergency') {
      if (entry.on === emergency[entry.by]) ctx.addIssue({ code: 'custom', path: ['passengers', index, 'on'], message: `the emergency release by ${entry.by} is already ${entry.on ? 'on' : 'off'}` });
      emergency[entry.by] = entry.on;
    }
  }
}

const DEFAULT_GAP_SEC = 1.5;

/**
 * The entries with their times (explicit, or 1.5 s after the previous entry),
 * sorted by time; entries at the same second keep their order in the file.
 */
export function inTimeOrder<T extends { at?: number | undefined }>(entries: readonly T[]): { entry: T; index: number; at: number }[] {
  let at = -DEFAULT_GAP_SEC;
  const timed = entries.map((entry, index) => {
    at = entry.at ?? at + DEFAULT_GAP_SEC;
    return { entry, index, at };
  });
  return timed.sort((a, b) => a.at - b.at || a.index - b.index);
}

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioPassenger = z.output<typeof passengerSchema>;
export type ScenarioEvent = z.output<typeof eventSchema>;
export type ProductSpec = z.output<typeof productSchema>;
