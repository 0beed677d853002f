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
];
