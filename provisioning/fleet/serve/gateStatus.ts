import { z } from 'zod';

/**
 * What the fleet service keeps of a gate's retained status (docs/sync.md,
 * "Status"): the fields the registry, the resync answers and the dashboard
 * use. A field of the wrong type is dropped, not the whole status, so a gate
 * of another version still shows as online with what it did send.
 */
export interface GateStatus {
  online: boolean;
  version?: string;
  mode?: string;
  site?: string;
  denyList: Record<string, number>;
  trustListSeq?: number;
  revocationSeq?: number;
  backlog?: number;
  lastTapAt?: string | null;
  clockTrusted?: boolean;
  journal?: string;
  alarms: { type: string; detail: string; at: string }[];
  devices: Record<string, { healthy: boolean; detail: string }>;
  emergency?: boolean;
  /** The gate's own clock when it sent the status. */
  at?: string;
}

const seq = z.number().int().nonnegative();
const short = z.string().max(200);
const optional = <S extends z.ZodType>(schema: S) => schema.optional().catch(undefined);

const statusSchema = z.object({
  online: z.boolean(),
  version: optional(short),
  mode: optional(short),
  site: optional(short),
  denyList: z.record(z.string().max(256), seq).catch({}).default({}),
  trustListSeq: optional(seq),
  revocationSeq: optional(seq),
  backlog: optional(seq),
  lastTapAt: optional(z.string().max(40).nullable()),
  clockTrusted: optional(z.boolean()),
  journal: optional(short),
  alarms: z.array(z.object({ type: short, detail: z.string().max(1000), at: short })).max(50).catch([]).default([]),
  hal: z.record(short, z.object({ healthy: z.boolean(), detail: z.string().max(1000).catch('') })).catch({}).default({}),
  emergency: optional(z.boolean()),
  at: optional(short),
});

/** Larger than any status a gate sends; a bigger payload is not read. */
export const MAX_STATUS_BYTES = 64 * 1024;

/** Why a status message was not taken. */
export type StatusRefusal = 'too-large' | 'not-json' | 'malformed' | 'gate-mismatch';

/**
 * A status payload as a typed status, or the reason it is refused. The gate
 * is the topic's (the broker's ACL lets a gate publish only its own); a
 * payload naming another gate is refused, never filed under either.
 */
export function parseGateStatus(gate: string, body: Buffer): { status: GateStatus } | { refused: StatusRefusal } {
  if (body.length > MAX_STATUS_BYTES) return { refused: 'too-large' };
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    return { refused: 'not-json' };
  }
  if (typeof document === 'object' && document !== null && 'gate' in document && (document as { gate: unknown }).gate !== gate) return { refused: 'gate-mismatch' };
  const parsed = statusSchema.safeParse(document);
  if (!parsed.success) return { refused: 'malformed' };
  const { hal, ...rest } = parsed.data;
  const status: GateStatus = { online: rest.online, denyList: rest.denyList, alarms: rest.alarms, devices: hal };
  for (const [field, value] of Object.entries(rest)) if (value !== undefined && !(field in status)) (status as unknown as Record<string, unknown>)[field] = value;
  return { status };
}
