import { z } from 'zod';
import { UID_ISSUER } from '../../core/credentials/uidCard.js';
import type { AllowEntry } from '../../core/policy/allowList.js';
import type { AccessSettings } from '../../core/policy/accessRules.js';
import { minuteOfDay } from '../../core/policy/localTime.js';

const MIDNIGHT = 24 * 60;

const WEEKDAY = 'a weekday number: 1 (Monday) ... 7 (Sunday)';
const weekday = z.number().int(WEEKDAY).min(1, WEEKDAY).max(7, WEEKDAY);
const startTime = z.string().refine((t) => minuteOfDay(t) !== undefined, 'a local time HH:MM, 00:00 ... 23:59');
const endTime = z.string().refine((t) => t === '24:00' || minuteOfDay(t) !== undefined, 'a local time HH:MM, 00:01 ... 24:00');

const weeklyRange = z
  .strictObject({ days: z.array(weekday).min(1, 'at least one weekday, 1 (Monday) ... 7 (Sunday)'), from: startTime, until: endTime })
  .superRefine((range, context) => {
    const from = minuteOfDay(range.from);
    const until = range.until === '24:00' ? MIDNIGHT : minuteOfDay(range.until);
    if (from !== undefined && until !== undefined && until <= from) {
      context.addIssue({ code: 'custom', path: ['until'], message: `must be later than from (${range.from}); a range over midnight is two ranges, one up to 24:00 and one from 00:00` });
    }
  })
  .transform((range) => ({ days: range.days, from: minuteOfDay(range.from)!, until: range.until === '24:00' ? MIDNIGHT : minuteOfDay(range.until)! }));

const UID_HEX = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$/;

/** One allow-list entry as written: `{issuer, subject}` or `{uid}`, each with an optional schedule name. */
const allowEntry = z
  .strictObject({
    issuer: z.string().min(1).optional(),
    subject: z.string().min(1).optional(),
    uid: z.string().regex(UID_HEX, 'a card UID in hex: 8, 14 or 20 digits (4, 7 or 10 bytes)').optional(),
    schedule: z.string().min(1).optional(),
  })
  .superRefine((entry, context) => {
    const bySubject = entry.issuer !== undefined || entry.subject !== undefined;
    if (entry.uid !== undefined && bySubject) {
      context.addIssue({ code: 'custom', path: ['uid'], message: 'an entry is either {uid} or {issuer, subject}, not both' });
    } else if (entry.uid === undefined && (entry.issuer === undefined || entry.subject === undefined)) {
      context.addIssue({ code: 'custom', path: [entry.issuer === undefined ? 'issuer' : 'subject'], message: 'an entry is either {uid} or {issuer, subject}: both issuer and subject are needed' });
    }
  })
  .transform((entry): AllowEntry => {
    const who = entry.uid !== undefined ? { issuer: UID_ISSUER, subject: entry.uid.toUpperCase() } : { issuer: entry.issuer!, subject: entry.subject! };
    return entry.schedule === undefined ? who : { ...who, schedule: entry.schedule };
  });

/** `gate.access` of the config: the allow-list, its weekly schedules, visitor issuers and UID cards. */
export const accessSchema = z
  .strictObject({
    schedules: z.record(z.string().min(1), z.array(weeklyRange).min(1, 'at least one range {days, from, until}')).default({}),
    allow: z.array(allowEntry).default([]),
    visitorIssuers: z.array(z.string().min(1)).default([]),
    uidCards: z.boolean().default(false),
  })
  .superRefine((access, context) => {
    const names = Object.keys(access.schedules);
    const seen = new Map<string, number>();
    access.allow.forEach((entry, i) => {
      // An entry that failed its own checks was not transformed: its issue is reported already.
      if (typeof entry.issuer !== 'string' || typeof entry.subject !== 'string') return;
      if (entry.schedule !== undefined && !(entry.schedule in access.schedules)) {
        const known = names.length > 0 ? `one of ${names.join(', ')}` : 'none is defined under access.schedules';
        context.addIssue({ code: 'custom', path: ['allow', i, 'schedule'], message: `names no schedule (${known})` });
      }
      if (entry.issuer === UID_ISSUER && !access.uidCards) {
        context.addIssue({ code: 'custom', path: ['allow', i, 'uid'], message: 'UID entries need access.uidCards: true (UID cards can be cloned: see docs/modes.md)' });
      }
      const key = `${entry.issuer.length}:${entry.issuer}${entry.subject}`;
      const first = seen.get(key);
      if (first !== undefined) context.addIssue({ code: 'custom', path: ['allow', i], message: `lists the same holder as allow.${first}` });
      else seen.set(key, i);
    });
  })
  .transform((access): AccessSettings => ({ allow: access.allow, schedules: access.schedules, visitorIssuers: access.visitorIssuers, uidCards: access.uidCards }));
