/**
 * Journal schema migrations, in order; `PRAGMA user_version` says how many
 * have run. Append only: a released migration is never edited.
 *
 * `taps.id` has no index on purpose: the gate makes each UUIDv7 itself, and an
 * index would add a page write (and so disk time) to every tap's commit.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE taps (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL,
     at TEXT NOT NULL,
     gate TEXT NOT NULL,
     site TEXT NOT NULL,
     mode TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('card', 'code', 'uid')),
     issuer TEXT,
     subject TEXT,
     category TEXT,
     result TEXT NOT NULL CHECK (result IN ('accepted', 'refused')),
     reason TEXT NOT NULL,
     fare INTEGER,
     product TEXT,
     latency_ms REAL NOT NULL
   );
   CREATE TABLE used_credentials (
     key TEXT PRIMARY KEY,
     until_ms INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // Where a tap happened (bus route and stop, metro station), and gate events that are not taps.
  `ALTER TABLE taps ADD COLUMN place TEXT;
   CREATE TABLE events (
     id TEXT PRIMARY KEY,
     at TEXT NOT NULL,
     type TEXT NOT NULL,
     detail TEXT
   ) WITHOUT ROWID;`,
  // Bank cards (kind emv) and their claim data. SQLite cannot change a CHECK in place, so the
  // table is rebuilt once; rows keep their seq. T-Union purse taps (tunion) are allowed now too,
  // so that the next card kind needs no second rebuild.
  `CREATE TABLE taps_v3 (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL,
     at TEXT NOT NULL,
     gate TEXT NOT NULL,
     site TEXT NOT NULL,
     mode TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('card', 'code', 'uid', 'emv', 'tunion')),
     issuer TEXT,
     subject TEXT,
     category TEXT,
     result TEXT NOT NULL CHECK (result IN ('accepted', 'refused')),
     reason TEXT NOT NULL,
     fare INTEGER,
     product TEXT,
     latency_ms REAL NOT NULL,
     place TEXT,
     emv TEXT
   );
   INSERT INTO taps_v3 (seq, id, at, gate, site, mode, kind, issuer, subject, category, result, reason, fare, product, latency_ms, place)
     SELECT seq, id, at, gate, site, mode, kind, issuer, subject, category, result, reason, fare, product, latency_ms, place FROM taps;
   DROP TABLE taps;
   ALTER TABLE taps_v3 RENAME TO taps;`,
  // Fleet-command nonces in their own table (issue 17): in used_credentials, which site sharing
  // also writes, a forged used message could shorten a nonce and make a signed command playable
  // again. The nonces held so far move over; the table is written only by the command handler.
  `CREATE TABLE command_nonces (
     nonce TEXT PRIMARY KEY,
     until_ms INTEGER NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO command_nonces (nonce, until_ms)
     SELECT substr(key, 5), max(until_ms) FROM used_credentials WHERE substr(key, 1, 4) = 'cmd:' GROUP BY substr(key, 5);
   DELETE FROM used_credentials WHERE substr(key, 1, 4) = 'cmd:';`,
  // T-Union purse purchases (issue 13): each tap's purchase for clearing, and per card the purchase
  // whose DEBIT may have gone out unanswered. A row is written before DEBIT is sent (`tap_id` NULL,
  // `pending` the pending tap it becomes), then cleared with the tap that settles it, or linked to
  // the pending tap journaled when the answer never came; a start finds those the gate died on.
  `ALTER TABLE taps ADD COLUMN purse TEXT;
   CREATE TABLE purse_pending (
     card TEXT PRIMARY KEY,
     tap_id TEXT,
     at_ms INTEGER NOT NULL,
     pending TEXT NOT NULL
   ) WITHOUT ROWID;`,
];
