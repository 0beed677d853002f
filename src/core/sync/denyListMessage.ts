import { z } from 'zod';
import type { TrustStore } from '../credentials/trustList.js';
import type { DenyListUpdate } from '../denylist/denyListUpdate.js';
import { FleetMessageError, openFleetMessage, type FleetAt } from './fleetMessage.js';

const MAX_ENTRY = 256;
const entry = z.string().min(1).max(MAX_ENTRY).regex(/^(?!cti:)|^cti:[0-9a-f]+$/, 'a cti entry is cti:<lower-case hex>');
const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const denyListPayload = z
  .object({
    issuer: z.string().min(1).max(MAX_ENTRY),
    seq: uint.min(1),
    base: uint,
    add: z.array(entry).default([]),
    remove: z.array(entry).default([]),
    issuedAt: uint,
    part: uint.min(1).optional(),
    parts: uint.min(1).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.base >= p.seq) ctx.addIssue({ code: 'custom', path: ['base'], message: `base ${p.base} must be below seq ${p.seq}` });
    if ((p.part === undefined) !== (p.parts === undefined)) ctx.addIssue({ code: 'custom', path: ['part'], message: 'part and parts come together' });
    if (p.part !== undefined && p.parts !== undefined) {
      if (p.part > p.parts) ctx.addIssue({ code: 'custom', path: ['part'], message: `part ${p.part} of ${p.parts}` });
      if (p.base !== 0) ctx.addIssue({ code: 'custom', path: ['base'], message: 'only a snapshot (base 0) comes in parts' });
    }
    if (p.base === 0 && p.remove.length > 0) ctx.addIssue({ code: 'custom', path: ['remove'], message: 'a snapshot (base 0) removes nothing: it replaces the list' });
  });

/** A deny-list update from `citygate/v1/denylist/{issuer}`, verified, signed as one (typ `citygate-denylist`) and typed (docs/sync.md). */
export function openDenyListUpdate(bytes: Uint8Array, topicIssuer: string, trust: TrustStore, at: FleetAt): DenyListUpdate {
  const p = openFleetMessage(bytes, trust, at, 'denylist', denyListPayload, 'deny-list update');
  if (p.issuer !== topicIssuer) throw new FleetMessageError('invalid', `deny-list update for ${p.issuer} arrived on the topic of ${topicIssuer}`);
  return {
    issuer: p.issuer,
    seq: p.seq,
    base: p.base,
    add: p.add,
    remove: p.remove,
    issuedAt: p.issuedAt,
    ...(p.part !== undefined && p.parts !== undefined ? { part: { index: p.part, count: p.parts } } : {}),
  };
}
