import { z } from 'zod';
import type { VenueSettings } from '../../core/policy/venueRules.js';

const CAPACITY = 'a whole number of passages a day, 1 or more';

/** `gate.venue` of the config: the daily capacity (passages a local day) of this gate. */
export const venueSchema = z
  .strictObject({
    dailyCapacity: z.number().int(CAPACITY).min(1, CAPACITY).optional(),
  })
  .transform((venue): VenueSettings => (venue.dailyCapacity === undefined ? {} : { dailyCapacity: venue.dailyCapacity }));
