import pg from 'pg';
import type { GateFinal } from './workerMessages.js';

export interface TapAudit {
  /** Taps the gates journaled. */
  journaled: number;
  /** Rows in PostgreSQL's taps table. */
  storedRows: number;
  /** Journaled taps with no row (a gate's seqs not in the table). */
  missing: number;
  /** Rows beyond one per (gate, seq): a tap stored twice under two ids. */
  extraRows: number;
  /** Rows of gates or seqs no gate journaled. */
  unknownRows: number;
  /** Gates whose delivered mark is below their last tap at the end. */
  gatesUndelivered: number;
  exactlyOnce: boolean;
}

/** Every journaled tap against the collectors' database, per gate, by seq: read straight from PostgreSQL, not from the collectors' counts. */
export async function auditTaps(url: string, gates: readonly GateFinal[]): Promise<TapAudit> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query<{ gate: string; n: string; seqs: string; lo: string; hi: string }>(
      'SELECT gate, count(*) AS n, count(DISTINCT seq) AS seqs, min(seq) AS lo, max(seq) AS hi FROM taps GROUP BY gate',
    );
    const byGate = new Map(rows.rows.map((row) => [row.gate, { n: Number(row.n), seqs: Number(row.seqs), lo: Number(row.lo), hi: Number(row.hi) }]));
    let journaled = 0;
    let storedRows = 0;
    let missing = 0;
    let extraRows = 0;
    let unknownRows = 0;
    let gatesUndelivered = 0;
    for (const gate of gates) {
      journaled += gate.lastSeq;
      if (gate.delivered < gate.lastSeq) gatesUndelivered++;
      const stored = byGate.get(gate.gate);
      byGate.delete(gate.gate);
      if (!stored) {
        missing += gate.lastSeq;
        continue;
      }
      storedRows += stored.n;
      extraRows += stored.n - stored.seqs;
      // Seqs are 1..lastSeq; distinct stored seqs inside that range are the taps found.
      const outside = stored.lo < 1 || stored.hi > gate.lastSeq;
      if (outside) unknownRows += Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM taps WHERE gate = $1 AND (seq < 1 OR seq > $2)', [gate.gate, gate.lastSeq])).rows[0]!.n);
      const found = outside
        ? Number((await client.query<{ n: string }>('SELECT count(DISTINCT seq) AS n FROM taps WHERE gate = $1 AND seq BETWEEN 1 AND $2', [gate.gate, gate.lastSeq])).rows[0]!.n)
        : stored.seqs;
      missing += gate.lastSeq - found;
    }
    for (const stored of byGate.values()) {
      storedRows += stored.n;
      unknownRows += stored.n;
    }
    return { journaled, storedRows, missing, extraRows, unknownRows, gatesUndelivered, exactlyOnce: missing === 0 && extraRows === 0 && unknownRows === 0 && storedRows === journaled };
  } finally {
    await client.end();
  }
}
