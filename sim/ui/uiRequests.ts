import { z } from 'zod';

/*
 * What the page may ask of the lane: each body is checked here, at the
 * edge, into a typed request, or refused with what was wrong.
 */

const lane = z.number().int().min(1);
const index = z.number().int().min(0).max(100_000);

export const requestSchemas = {
  '/api/present': z.strictObject({ lane, passenger: index }),
  '/api/scan': z.strictObject({ lane, text: z.string().min(1).max(4_096) }),
  '/api/event': z.strictObject({ lane, event: index }),
  '/api/walk': z.strictObject({ lane }),
  '/api/auto-walk': z.strictObject({ lane, on: z.boolean() }),
  '/api/load': z.strictObject({ scenario: index }),
  /** `pace`: real ms between two entries of the timeline (at most the scenario's own gap). */
  '/api/play': z.strictObject({ scenario: index, pace: z.number().int().min(0).max(10_000) }),
  '/api/stop': z.strictObject({}),
} as const;

export type RequestPath = keyof typeof requestSchemas;
export type RequestOf<P extends RequestPath> = z.output<(typeof requestSchemas)[P]>;

export function isRequestPath(path: string): path is RequestPath {
  return Object.hasOwn(requestSchemas, path);
}

export type Parsed<P extends RequestPath> = { ok: true; request: RequestOf<P> } | { ok: false; problem: string };

/** The body's JSON text as the request for `path`, or what is wrong with it. */
export function parseRequest<P extends RequestPath>(path: P, text: string): Parsed<P> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'the body is not JSON' };
  }
  const parsed = requestSchemas[path].safeParse(body);
  if (parsed.success) return { ok: true, request: parsed.data as RequestOf<P> };
  return { ok: false, problem: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ') };
}
