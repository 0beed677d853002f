import { z } from 'zod';
import type { MetroSettings } from '../../core/policy/metroRules.js';
import { categoryRules, fen, placeId } from './fareSchema.js';

/** A flat fare charged at entry: `default` (fen) and category `rules`; metro fares have no routes. */
const entryFareSchema = z.strictObject({ default: fen, rules: categoryRules }).transform((f) => ({ default: f.default, byRoute: {}, rules: f.rules }));

/** `gate.metro` of the config: the station of this gate and its passback window (docs/modes.md, "Metro"). */
export const metroSchema = z
  .strictObject({
    station: placeId,
    passbackMin: z.number().int('whole minutes, 1 ... 1440').min(1, 'whole minutes, 1 ... 1440').max(1440, 'whole minutes, 1 ... 1440').default(120),
    fares: entryFareSchema.optional(),
  })
  .transform((m): MetroSettings => ({ station: m.station, passbackMin: m.passbackMin, fares: m.fares }));
