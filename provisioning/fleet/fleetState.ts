import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const STATE_FILE = 'fleet-state.db';

/** A signed message waiting for its PUBACK; kept until then so a failed publish is retried, never re-signed with a new seq. */
export interface OutgoingMessage {
  id: number;
  topic: string;
  payload: Uint8Array;
  retain: boolean;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS deny_seq (issuer TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS deny_entries (issuer TEXT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (issuer, entry)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, retain INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS documents (name TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
`;

/** Thrown inside a preview's transaction to roll it back; never escapes. */
const ROLLBACK = Symbol('rollback');

function prepare(db: Database.Database) {
  return {
    selectSeq: db.prepare('SELECT seq FROM deny_seq WHERE issuer = ?'),
    upsertSeq: db.prepare('INSERT INTO deny_seq (issuer, seq) VALUES (?, ?) ON CONFLICT (issuer) DO UPDATE SET seq = excluded.seq'),
    selectEntry: db.prepare('SELECT 1 FROM deny_entries WHERE issuer = ? AND entry = ?'),
    insertEntry: db.prepare('INSERT OR IGNORE INTO deny_entries (issuer, entry) VALUES (?, ?)'),
    deleteEntry: db.prepare('DELETE FROM deny_entries WHERE issuer = ? AND entry = ?'),
    countEntries: db.prepare('SELECT count(*) AS n FROM deny_entries WHERE issuer = ?'),
    selectEntries: db.prepare('SELECT entry FROM deny_entries WHERE issuer = ? AND entry > ? ORDER BY entry LIMIT ?').pluck(),
    selectCounter: db.prepare('SELECT value FROM counters WHERE name = ?'),
    upsertCounter: db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    insertOutgoing: db.prepare('INSERT INTO outbox (topic, payload, retain) VALUES (?, ?, ?)'),
    selectOutbox: db.prepare('SELECT id, topic, payload, retain FROM outbox ORDER BY id'),
    deleteOutgoing: db.prepare('DELETE FROM outbox WHERE id = ?'),
    selectDocument: db.prepare('SELECT body FROM documents WHERE name = ?').pluck(),
    upsertDocument: db.prepare('INSERT INTO documents (name, body) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET body = excluded.body'),
  };
}

/**
 * What fleet ops have published, per directory (`fleet-state.db`): the seq
 * and full deny list per issuer, the trust-list and revocation-list seqs, the
 * trust list and the signed trust and revocation messages last published
 * (keptMessages.ts), and messages signed but not yet acknowledged by the broker. One
 * writer at a time (SQLite locks).
 */
export class FleetState {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepare>;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, STATE_FILE));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.statements = prepare(this.db);
  }

  /** Run `work` in one write transaction: a seq, its entries and its signed messages commit together or not at all. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  /**
   * Run `work` as a transaction that is rolled back: it sees its own
   * changes (seqs, lists, the messages it queues) and leaves nothing behind,
   * so a preview signs what the next real run would, without using up a seq.
   */
  preview<T>(work: () => T): T {
    let result: { value: T } | undefined;
    try {
      this.db
        .transaction(() => {
          result = { value: work() };
          throw ROLLBACK;
        })
        .immediate();
    } catch (error) {
      if (error !== ROLLBACK) throw error;
    }
    return result!.value;
  }

  denySeq(issuer: string): number {
    const row = this.statements.selectSeq.get(issuer) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  setDenySeq(issuer: string, seq: number): void {
    this.statements.upsertSeq.run(issuer, seq);
  }

  hasEntry(issuer: string, entry: string): boolean {
    return this.statements.selectEntry.get(issuer, entry) !== undefined;
  }

  addEntry(issuer: string, entry: string): void {
    this.statements.insertEntry.run(issuer, entry);
  }

  removeEntry(issuer: string, entry: string): void {
    this.statements.deleteEntry.run(issuer, entry);
  }

  entryCount(issuer: string): number {
    return (this.statements.countEntries.get(issuer) as { n: number }).n;
  }

  /** Up to `limit` entries after `after`, in a stable order, so the parts of a snapshot come out the same each time. */
  entriesAfter(issuer: string, after: string, limit: number): string[] {
    return this.statements.selectEntries.all(issuer, after, limit) as string[];
  }

  counter(name: string): number {
    const row = this.statements.selectCounter.get(name) as { value: number } | undefined;
    return row?.value ?? 0;
  }

  setCounter(name: string, value: number): void {
    this.statements.upsertCounter.run(name, value);
  }

  /** A document kept as published last (the trust list, a signed message), or undefined. */
  document(name: string): string | undefined {
    return this.statements.selectDocument.get(name) as string | undefined;
  }

  setDocument(name: string, body: string): void {
    this.statements.upsertDocument.run(name, body);
  }

  queue(topic: string, payload: Uint8Array, retain: boolean): void {
    this.statements.insertOutgoing.run(topic, Buffer.from(payload), retain ? 1 : 0);
  }

  /** Messages not yet delivered, oldest first (the order gates must see them in). */
  outbox(): OutgoingMessage[] {
    const rows = this.statements.selectOutbox.all() as { id: number; topic: string; payload: Buffer; retain: number }[];
    return rows.map((row) => ({ id: row.id, topic: row.topic, payload: new Uint8Array(row.payload), retain: row.retain === 1 }));
  }

  delivered(id: number): void {
    this.statements.deleteOutgoing.run(id);
  }

  close(): void {
    this.db.close();
  }
}
