import { z } from 'zod';
import type { BusSettings } from '../../core/policy/busRules.js';
import { fareScheduleSchema, fen, placeId } from './fareSchema.js';

const minutesInADay = (what: string) => z.number().int(`${what}: whole minutes, 1 ... 1440`).min(1, `${what}: whole minutes, 1 ... 1440`).max(1440, `${what}: whole minutes, 1 ... 1440`);

/** `discount` (fen off the fare) or `fare` (the fare of a transfer), exactly one. */
const transferSchema = z
  .strictObject({ windowMin: minutesInADay('the transfer window'), discount: fen.optional(), fare: fen.optional() })
  .superRefine((t, context) => {
    if ((t.discount === undefined) === (t.fare === undefined)) context.addIssue({ code: 'custom', path: ['discount'], message: 'a transfer has exactly one of discount (fen off the fare) and fare (fen)' });
  })
  .transform((t) => (t.discount !== undefined ? { windowMin: t.windowMin, discount: t.discount } : { windowMin: t.windowMin, fare: t.fare! }));

const stopSchema = z.strictObject({
  id: placeId,
  name: z.string().min(1, 'the stop name as drivers know it'),
  lat: z.number().min(-90, 'a latitude in degrees, -90 ... 90 (WGS-84, north positive)').max(90, 'a latitude in degrees, -90 ... 90 (WGS-84, north positive)'),
  lon: z.number().min(-180, 'a longitude in degrees, -180 ... 180 (WGS-84, east positive)').max(180, 'a longitude in degrees, -180 ... 180 (WGS-84, east positive)'),
});

/** `gate.bus` of the config: one vehicle's validator (docs/modes.md, "Bus"). */
export const busSchema = z
  .strictObject({
    operator: placeId,
    route: placeId,
    stop: placeId.optional(),
    fares: fareScheduleSchema.optional(),
    transfer: transferSchema.optional(),
    stops: z.array(stopSchema).default([]),
    stopRadiusM: z.number().min(5, 'metres, 5 ... 500').max(500, 'metres, 5 ... 500').default(50),
    stopHysteresisM: z.number().min(0, 'metres, 0 ... 200').max(200, 'metres, 0 ... 200').default(15),
  })
  .superRefine((bus, context) => {
    const seen = new Set<string>();
    bus.stops.forEach((stop, i) => {
      if (seen.has(stop.id)) context.addIssue({ code: 'custom', path: ['stops', i, 'id'], message: `stop ${stop.id} is in the table twice` });
      seen.add(stop.id);
    });
    if (bus.stop !== undefined && bus.stops.length > 0 && !seen.has(bus.stop)) {
      context.addIssue({ code: 'custom', path: ['stop'], message: `not in the stop table; allowed: ${[...seen].join(', ')}` });
    }
  })
  .transform(
    (bus): BusSettings => ({
      operator: bus.operator,
      route: bus.route,
      stop: bus.stop,
      fares: bus.fares,
      transfer: bus.transfer,
      stops: bus.stops,
      stopRadiusM: bus.stopRadiusM,
      stopHysteresisM: bus.stopHysteresisM,
    }),
  );
