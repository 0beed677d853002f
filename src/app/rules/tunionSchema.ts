import { z } from 'zod';
import { CATEGORIES } from '../../core/credentials/credential.js';
import type { TunionSettings } from '../../core/credentials/tunion/tunionSettings.js';
import { categoryRules, fen } from './fareSchema.js';

const stationCode = z.string().regex(/^\d{4}$/, 'a station code as cards carry it: 4 digits (line, station), e.g. "0103"');

/** `gate.tunion.metro`: this station's code, the fare from each entry station, the penalty fare. */
const metroSchema = z.strictObject({
  station: stationCode,
  fares: z.record(z.string(), fen).superRefine((fares, context) => {
    for (const station of Object.keys(fares)) {
      if (!/^\d{4}$/.test(station)) context.addIssue({ code: 'custom', path: [station], message: `the entry station ${JSON.stringify(station)} is not 4 digits (line, station)` });
    }
  }),
  penaltyFare: fen,
  rules: categoryRules,
});

/** `gate.tunion` of the config (docs/config.md): how the gate takes T-Union purse cards. */
export const tunionSchema = z
  .strictObject({
    cardTypes: z
      .record(z.string(), z.enum(CATEGORIES))
      .superRefine((types, context) => {
        for (const type of Object.keys(types)) {
          if (!/^[0-9A-F]{2}$/.test(type)) context.addIssue({ code: 'custom', path: [type], message: `the card type ${JSON.stringify(type)} is not two upper-case hex digits (file 15, byte 28)` });
        }
      })
      .default({}),
    defaultCategory: z.enum(CATEGORIES).default('adult'),
    keyIndex: z.number().int().min(0).max(255).default(1),
    city: z.string().regex(/^\d{4}$/, 'the city code written into cards: 4 digits').default('0000'),
    pendingWindowMin: z.number().int().min(1, 'whole minutes, 1 ... 1440').max(1440, 'whole minutes, 1 ... 1440').default(10),
    metro: metroSchema.optional(),
  })
  .transform((t): TunionSettings => ({ cardTypes: t.cardTypes, defaultCategory: t.defaultCategory, keyIndex: t.keyIndex, city: t.city, pendingWindowMin: t.pendingWindowMin, metro: t.metro }));
