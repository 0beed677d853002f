import pg from 'pg';
import type { Tap } from '../../src/core/tap.js';
import { holeBelow } from './seqHole.js';
import type { IncomingBatch, TapStorage } from './tapStorage.js';
import { answerToAsk, sameTap, type BatchOutcome, type Gap, type GateProgress } from './tapStore.js';

/*
 * The same tables as the SQLite store, in PostgreSQL's types: objects as
 * jsonb, times as timestamptz (the gate's ISO text with milliseconds comes back
 * the same), seqs as bigint.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS taps (
    id text PRIMARY KEY, gate text NOT NULL, seq bigint NOT NULL, at timestamptz NOT NULL, site text NOT NULL,
    mode text NOT NULL, kind text NOT NULL, issuer text, subject text, category text, result text NOT NULL,
    reason text NOT NULL, fare bigint, product jsonb, latency_ms double precision NOT NULL, place jsonb, emv jsonb, purse jsonb,
    received_at timestamptz NOT NULL
  );
  CREATE INDEX IF NOT EXISTS taps_by_gate_seq ON taps (gate, seq);
  CREATE TABLE IF NOT EXISTS gates (gate text PRIMARY KEY, up_to bigint NOT NULL, first_seen timestamptz NOT NULL);
  CREATE TABLE IF NOT EXISTS conflicts (id text NOT NULL, gate text NOT NULL, seq bigint NOT NULL, received_at timestamptz NOT NULL, tap jsonb NOT NULL);
`;

/** The first key of the collector's advisory locks (the second is a gate's hash, or 0 for the schema). */
const LOCK_SPACE = 0x43_47_54_53; // "CGTS"

const TAP_COLUMNS = `id text, gate text, seq bigint, at timestamptz, site text, mode text, kind text, issuer text, subject text,
  category text, result text, reason text, fare bigint, product jsonb, "latencyMs" double precision, place jsonb, emv jsonb, purse jsonb`;

/** A whole batch in one statement: the taps as one jsonb parameter; the ids newly stored come back. */
const INSERT_TAPS = `
  INSERT INTO taps (id, gate, seq, at, site, mode, kind, issuer, subject, category, result, reason, fare, product, latency_ms, place, emv, purse, received_at)
  SELECT id, gate, seq, at, site, mode, kind, issuer, subject, category, result, reason, fare, product, "latencyMs", place, emv, purse, $2
  FROM jsonb_to_recordset($1::jsonb) AS t(${TAP_COLUMNS})
  ON CONFLICT (id) DO NOTHING
  RETURNING id`;

interface TapPgRow {
  id: string;
  seq: string;
  at: Date;
  gate: string;
  site: string;
  mode: string;
  kind: string;
  issuer: string | null;
  subject: string | null;
  category: string | null;
  result: string;
  reason: string;
  fare: string | null;
  product: Tap['product'];
  latency_ms: number;
  place: Tap['place'] | null;
  emv: Tap['emv'] | null;
  purse: Tap['purse'] | null;
}

function tapFromPgRow(row: TapPgRow): Tap {
  return {
    id: row.id,
    seq: Number(row.seq),
    at: row.at.toISOString(),
    gate: row.gate,
    site: row.site,
    mode: row.mode as Tap['mode'],
    kind: row.kind as Tap['kind'],
    issuer: row.issuer,
    subject: row.subject,
    category: row.category,
    result: row.result as Tap['result'],
    reason: row.reason as Tap['reason'],
    fare: row.fare === null ? null : Number(row.fare),
    product: row.product,
    latencyMs: row.latency_ms,
    place: row.place,
    emv: row.emv,
    ...(row.purse ? { purse: row.purse } : {}),
  };
}

/**
 * The collector's PostgreSQL store, shared by every collector of a shared
 * subscription: a group of batches is one transaction (one commit for all
 * the collector received meanwhile), each tap stored once by `id`. Each gate
 * is locked (a transaction advisory lock, taken in gate order, so two
 * collectors never deadlock) while its range moves, so two collectors
 * storing batches of one gate at once take turns and neither sees the
 * other's half.
 */
export class PostgresTapStore implements TapStorage {
  private constructor(private readonly pool: pg.Pool) {}

  /** Connect and make the tables (once, under a lock, however many collectors start together). */
  static async open(url: string, options: { readonly?: boolean } = {}): Promise<PostgresTapStore> {
    const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
    // An idle connection the server dropped (a restart): the pool replaces it; the next query reports any failure.
    pool.on('error', () => undefined);
    const store = new PostgresTapStore(pool);
    try {
      if (options.readonly) {
        await pool.query('SELECT 1 FROM gates LIMIT 1');
      } else {
        await store.transaction(async (client) => {
          await client.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_SPACE]);
          await client.query(SCHEMA);
        });
      }
    } catch (error) {
      await pool.end();
      throw error;
    }
    return store;
  }

  async storeBatches(batches: readonly IncomingBatch[], receivedAt: string): Promise<BatchOutcome[]> {
    const gates = [...new Set(batches.map((b) => b.gate))].sort();
    return this.transaction(async (client) => {
      for (const gate of gates) await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_SPACE, gate]);
      const outcomes: BatchOutcome[] = [];
      for (const batch of batches) outcomes.push(await this.storeBatch(client, batch, receivedAt));
      return outcomes;
    });
  }

  /** One batch, its gate locked: the same steps as the SQLite store's storeBatch. */
  private async storeBatch(client: pg.PoolClient, { gate, taps, delivered }: IncomingBatch, receivedAt: string): Promise<BatchOutcome> {
    if (taps.length === 0) {
      const known = await client.query<{ up_to: string }>('SELECT up_to FROM gates WHERE gate = $1', [gate]);
      return answerToAsk(known.rows[0] === undefined ? undefined : Number(known.rows[0].up_to));
    }
    const first = taps[0]!.seq;
    const last = taps.at(-1)!.seq;
    const state = await client.query<{ up_to: string | null; highest: string | null }>(
      'SELECT (SELECT up_to FROM gates WHERE gate = $1) AS up_to, (SELECT max(seq) FROM taps WHERE gate = $1) AS highest',
      [gate],
    );
    let upTo = state.rows[0]!.up_to === null ? undefined : Number(state.rows[0]!.up_to);
    if (upTo === undefined) {
      upTo = Math.min(delivered ?? first - 1, first - 1);
      await client.query('INSERT INTO gates (gate, up_to, first_seen) VALUES ($1, $2, $3)', [gate, upTo, receivedAt]);
    }
    const highest = Math.max(upTo, Number(state.rows[0]!.highest ?? 0));
    const outcome: BatchOutcome = { stored: 0, duplicates: 0, conflicts: [], upTo, ...holeBelow(highest, first, delivered), filled: false };

    const inserted = await client.query<{ id: string }>(INSERT_TAPS, [JSON.stringify(taps), receivedAt]);
    outcome.stored = inserted.rowCount ?? 0;
    const newIds = new Set(inserted.rows.map((row) => row.id));
    const again = taps.filter((tap) => !newIds.has(tap.id));
    if (again.length > 0) {
      const rows = await client.query<TapPgRow>('SELECT * FROM taps WHERE id = ANY($1::text[])', [again.map((tap) => tap.id)]);
      const stored = new Map(rows.rows.map((row) => [row.id, tapFromPgRow(row)]));
      for (const tap of again) {
        const kept = stored.get(tap.id)!;
        if (sameTap(kept, tap)) {
          outcome.duplicates++;
          continue;
        }
        outcome.conflicts.push({ tap, stored: kept });
        await client.query('INSERT INTO conflicts (id, gate, seq, received_at, tap) VALUES ($1, $2, $3, $4, $5)', [tap.id, gate, tap.seq, receivedAt, JSON.stringify(tap)]);
      }
    }

    const above = await client.query<{ seq: string }>('SELECT seq FROM taps WHERE gate = $1 AND seq > $2 ORDER BY seq', [gate, upTo]);
    let next = upTo;
    for (const row of above.rows) {
      const seq = Number(row.seq);
      if (seq === next) continue;
      if (seq !== next + 1) break;
      next = seq;
    }
    if (next !== upTo) {
      await client.query('UPDATE gates SET up_to = $1 WHERE gate = $2', [next, gate]);
      outcome.filled = highest > last && next > last;
      outcome.upTo = next;
    }
    return outcome;
  }

  async progress(): Promise<GateProgress[]> {
    const result = await this.pool.query<{ gate: string; up_to: string; seqs: string[] | null }>(
      `SELECT g.gate, g.up_to, array_agg(t.seq ORDER BY t.seq) FILTER (WHERE t.seq IS NOT NULL) AS seqs
       FROM gates g LEFT JOIN taps t ON t.gate = g.gate AND t.seq > g.up_to
       GROUP BY g.gate, g.up_to ORDER BY g.gate COLLATE "C"`,
    );
    return result.rows.map((row) => {
      const upTo = Number(row.up_to);
      const gaps: Gap[] = [];
      let previous = upTo;
      for (const seq of (row.seqs ?? []).map(Number)) {
        if (seq > previous + 1) gaps.push({ from: previous + 1, to: seq - 1 });
        previous = Math.max(previous, seq);
      }
      return { gate: row.gate, upTo, gaps };
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** `work` between BEGIN and COMMIT; rolled back, and the connection dropped if it broke, on any error. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      let broken: Error | undefined = error as Error;
      try {
        await client.query('ROLLBACK');
        broken = undefined;
      } catch {
        // The connection itself failed: the pool must not hand it out again.
      }
      client.release(broken);
      throw error;
    }
  }
}
