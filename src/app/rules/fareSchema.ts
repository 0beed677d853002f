import { z } from 'zod';
import { CATEGORIES } from '../../core/credentials/credential.js';
import type { CategoryFareRule, DaySpan, FareSchedule } from '../../core/policy/fareRules.js';
import { minuteOfDay } from '../../core/policy/localTime.js';
import { PLACE_ID, PLACE_ID_RULE } from '../../../hal/locationSource.js';

const MIDNIGHT = 24 * 60;

export const fen = z.number().int('a whole number of fen (1 yuan = 100 fen), 0 or more').min(0, 'a whole number of fen (1 yuan = 100 fen), 0 or more');
export const placeId = z.string().regex(PLACE_ID, PLACE_ID_RULE);

const weekday = z.number().int('a weekday number: 1 (Monday) ... 7 (Sunday)').min(1, 'a weekday number: 1 (Monday) ... 7 (Sunday)').max(7, 'a weekday number: 1 (Monday) ... 7 (Sunday)');
const startTime = z.string().refine((t) => minuteOfDay(t) !== undefined, 'a local time HH:MM, 00:00 ... 23:59');
const endTime = z.string().refine((t) => t === '24:00' || minuteOfDay(t) !== undefined, 'a local time HH:MM, 00:01 ... 24:00');

const daySpan = z
  .strictObject({ from: startTime, until: endTime })
  .superRefine((span, context) => {
    const from = minuteOfDay(span.from);
    const until = span.until === '24:00' ? MIDNIGHT : minuteOfDay(span.until);
    if (from !== undefined && until !== undefined && until <= from) {
      context.addIssue({ code: 'custom', path: ['until'], message: `must be later than from (${span.from}); hours over midnight are two spans, one up to 24:00 and one from 00:00` });
    }
  })
  .transform((span): DaySpan => ({ from: minuteOfDay(span.from)!, until: span.until === '24:00' ? MIDNIGHT : minuteOfDay(span.until)! }));

/** A holder category's rule: exactly one of `fare` (fen) and `percent` (share of the base fare paid), optionally only at some hours and days. */
const categoryRule = z
  .strictObject({
    category: z.enum(CATEGORIES),
    fare: fen.optional(),
    percent: z.number().int('a whole percent of the base fare, 0 ... 100').min(0, 'a whole percent of the base fare, 0 ... 100').max(100, 'a whole percent of the base fare, 0 ... 100').optional(),
    hours: z.array(daySpan).min(1, 'at least one span {from: "HH:MM", until: "HH:MM"}, or leave hours out for all day').optional(),
    days: z.array(weekday).min(1, 'at least one weekday, 1 (Monday) ... 7 (Sunday), or leave days out for every day').optional(),
  })
  .superRefine((rule, context) => {
    if ((rule.fare === undefined) === (rule.percent === undefined)) {
      context.addIssue({ code: 'custom', path: ['fare'], message: `a ${rule.category} rule has exactly one of fare (fen) and percent (of the base fare, 0 ... 100)` });
    }
  })
  .transform((rule): CategoryFareRule => {
    const scope = { category: rule.category, ...(rule.hours ? { hours: rule.hours } : {}), ...(rule.days ? { days: rule.days } : {}) };
    return rule.fare !== undefined ? { ...scope, fare: rule.fare } : { ...scope, percent: rule.percent! };
  });

/** Category rules in order: the first that matches the holder's category at this time applies. */
export const categoryRules = z.array(categoryRule).default([]);

/** A bus operator's fares: `default` (fen), `byRoute` where routes differ, and category `rules`. */
export const fareScheduleSchema = z
  .strictObject({
    default: fen,
    byRoute: z
      .record(z.string(), fen)
      .superRefine((byRoute, context) => {
        for (const route of Object.keys(byRoute)) {
          if (!PLACE_ID.test(route)) context.addIssue({ code: 'custom', path: [route], message: `the route id ${JSON.stringify(route)} is not ${PLACE_ID_RULE}` });
        }
      })
      .default({}),
    rules: categoryRules,
  })
  .transform((f): FareSchedule => ({ default: f.default, byRoute: f.byRoute, rules: f.rules }));
