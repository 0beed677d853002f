import { z } from 'zod';
import type { AccessibilitySettings } from '../../core/settings.js';

/** `gate.accessibility` of the config: a wide lane's open time, large text, clear tones. */
export const accessibilitySchema = z
  .strictObject({
    wideLane: z.boolean().default(false),
    openTimeoutMs: z.number().int().min(500).max(300_000).optional(),
    largeText: z.boolean().default(false),
    clearTones: z.boolean().default(false),
  })
  .superRefine((a, context) => {
    if (a.openTimeoutMs !== undefined && !a.wideLane) {
      context.addIssue({ code: 'custom', path: ['openTimeoutMs'], message: 'is the wide lane\'s open time: set wideLane: true, or leave it out and set gate.openTimeoutMs' });
    }
  })
  .transform((a): AccessibilitySettings => ({ wideLane: a.wideLane, openTimeoutMs: a.openTimeoutMs, largeText: a.largeText, clearTones: a.clearTones }));
