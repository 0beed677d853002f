import type { Tap } from './tap.js';

/** A tap as SQLite keeps it (the journal's `taps` table, and the collector's). */
export interface TapRow {
  seq: number;
  id: string;
  at: string;
  gate: string;
  site: string;
  mode: string;
  kind: string;
  issuer: string | null;
  subject: string | null;
  category: string | null;
  result: string;
  reason: string;
  fare: number | null;
  product: string | null;
  latency_ms: number;
  place: string | null;
  /** Absent in rows from before bank cards. */
  emv?: string | null;
  /** Absent in rows from before purse cards. */
  purse?: string | null;
}

/** A tap as named parameters of an INSERT: objects as JSON text. An imported tap from before places may lack one. */
export function tapParameters(tap: Tap): Record<string, unknown> {
  return {
    ...tap,
    product: tap.product === null ? null : JSON.stringify(tap.product),
    place: tap.place ? JSON.stringify(tap.place) : null,
    emv: tap.emv ? JSON.stringify(tap.emv) : null,
    purse: tap.purse ? JSON.stringify(tap.purse) : null,
  };
}

export function tapFromRow(row: TapRow): Tap {
  return {
    id: row.id,
    seq: row.seq,
    at: row.at,
    gate: row.gate,
    site: row.site,
    mode: row.mode as Tap['mode'],
    kind: row.kind as Tap['kind'],
    issuer: row.issuer,
    subject: row.subject,
    category: row.category,
    result: row.result as Tap['result'],
    reason: row.reason as Tap['reason'],
    fare: row.fare,
    product: row.product === null ? null : (JSON.parse(row.product) as Tap['product']),
    latencyMs: row.latency_ms,
    place: row.place === null ? null : (JSON.parse(row.place) as Tap['place']),
    emv: row.emv ? (JSON.parse(row.emv) as Tap['emv']) : null,
    ...(row.purse ? { purse: JSON.parse(row.purse) as Tap['purse'] } : {}),
  };
}
