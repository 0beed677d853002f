import pg from 'pg';
import type { Tap } from '../../src/core/tap.js';
import { settleGroup, startUpTo, type GateAtStart, type GroupSettlement } from './groupSettlement.js';
import type { IncomingBatch, TapStorage } from './tapStorage.js';
import type { BatchOutcome, Gap, GateProgress } from './tapStore.js';

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

/** Each gate's range and highest seq, read once for the group. */
async function gatesAtStart(client: pg.PoolClient, gates: readonly string[]): Promise<Map<string, GateAtStart>> {
  const rows = await client.query<{ gate: string; up_to: string | null; highest: string | null }>(
    `SELECT g.gate, (SELECT up_to FROM gates WHERE gate = g.gate) AS up_to, (SELECT max(seq) FROM taps WHERE gate = g.gate) AS highest
     FROM unnest($1::text[]) AS g(gate)`,
    [gates],
  );
  return new Map(rows.rows.map((row) => [row.gate, { upTo: row.up_to === null ? undefined : Number(row.up_to), highest: Number(row.highest ?? 0) }]));
}

/** Per gate, the seqs stored above the range the group starts from (a gate that only asks has none to read). */
async function storedAbove(client: pg.PoolClient, gates: readonly string[], starts: readonly (number | undefined)[]): Promise<Map<string, number[]>> {
  const known = gates.flatMap((gate, i) => (starts[i] === undefined ? [] : [[gate, starts[i]!] as const]));
  const above = new Map<string, number[]>();
  if (known.length === 0) return above;
  const rows = await client.query<{ gate: string; seq: string }>(
    `SELECT t.gate, t.seq FROM unnest($1::text[], $2::bigint[]) AS g(gate, up_to) JOIN taps t ON t.gate = g.gate AND t.seq > g.up_to ORDER BY t.gate, t.seq`,
    [known.map(([gate]) => gate), known.map(([, upTo]) => upTo)],
  );
  for (const row of rows.rows) {
    const seqs = above.get(row.gate) ?? [];
    seqs.push(Number(row.seq));
    above.set(row.gate, seqs);
  }
  return above;
}

/** The group's new gates, moved ranges and conflicts, one statement each. */
async function writeSettlement(client: pg.PoolClient, settled: GroupSettlement, receivedAt: string): Promise<void> {
  if (settled.newGates.size > 0) {
    await client.query('INSERT INTO gates (gate, up_to, first_seen) SELECT gate, up_to, $3 FROM unnest($1::text[], $2::bigint[]) AS g(gate, up_to)', [
      [...settled.newGates.keys()],
      [...settled.newGates.values()],
      receivedAt,
    ]);
  }
  if (settled.upTos.size > 0) {
    await client.query('UPDATE gates SET up_to = g.up_to FROM unnest($1::text[], $2::bigint[]) AS g(gate, up_to) WHERE gates.gate = g.gate', [
      [...settled.upTos.keys()],
      [...settled.upTos.values()],
    ]);
  }
  if (settled.conflicts.length > 0) {
    await client.query(
      'INSERT INTO conflicts (id, gate, seq, received_at, tap) SELECT id, gate, seq, $4, tap FROM unnest($1::text[], $2::text[], $3::bigint[], $5::jsonb[]) AS c(id, gate, seq, tap)',
      [settled.conflicts.map((c) => c.tap.id), settled.conflicts.map((c) => c.gate), settled.conflicts.map((c) => c.tap.seq), receivedAt, settled.conflicts.map((c) => JSON.stringify(c.tap))],
    );
  }
}

/**
 * The collector's PostgreSQL store, shared by every collector of a shared
 * subscription: a group of batches is one transaction (one commit for all
 * the collector received meanwhile) of a few statements however many batches
 * it holds (a statement per batch left the collectors waiting on round trips
 * at 1,000 gates), each tap stored once by `id`. Each gate
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
      // Locked in the same order by every collector (unnest keeps the array's order), so two never deadlock.
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext(g)) FROM unnest($2::text[]) AS g', [LOCK_SPACE, gates]);
      const atStart = await gatesAtStart(client, gates);
      const starts = gates.map((gate) => startUpTo(gate, atStart.get(gate), batches));
      const seqsAbove = await storedAbove(client, gates, starts);
      const taps = batches.flatMap((batch) => batch.taps);
      const inserted = taps.length === 0 ? [] : (await client.query<{ id: string }>(INSERT_TAPS, [JSON.stringify(taps), receivedAt])).rows.map((row) => row.id);
      const insertedIds = new Set(inserted);
      const again = [...new Set(taps.filter((tap) => !insertedIds.has(tap.id)).map((tap) => tap.id))];
      const held = new Map<string, Tap>();
      if (again.length > 0) {
        const rows = await client.query<TapPgRow>('SELECT * FROM taps WHERE id = ANY($1::text[])', [again]);
        for (const row of rows.rows) held.set(row.id, tapFromPgRow(row));
      }
      const settled = settleGroup(batches, atStart, { inserted: insertedIds, held, seqsAbove });
      await writeSettlement(client, settled, receivedAt);
      return settled.outcomes;
    });
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
