/*
 * The deny-list store's SQLite schema, one migration per user_version.
 *
 * An issuer's list is its `chunks` (the sorted 64-bit hashes as of
 * `base_seq`, 1 MiB blobs of little-endian uint64s) followed by its
 * `deltas` since (hashes removed and added per update, in seq order), so
 * that a delta costs a row of its own size rather than a rewrite of the list;
 * the deltas are folded into new chunks now and then. `staged_parts` holds
 * the parts of a snapshot until all of them are in.
 */
export const DENY_LIST_MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE issuers (
     issuer TEXT PRIMARY KEY,
     seq INTEGER NOT NULL,
     count INTEGER NOT NULL,
     base_seq INTEGER NOT NULL,
     base_count INTEGER NOT NULL
   );
   CREATE TABLE chunks (
     issuer TEXT NOT NULL,
     n INTEGER NOT NULL,
     hashes BLOB NOT NULL,
     crc INTEGER NOT NULL,
     PRIMARY KEY (issuer, n)
   );
   CREATE TABLE deltas (
     issuer TEXT NOT NULL,
     seq INTEGER NOT NULL,
     removes BLOB NOT NULL,
     adds BLOB NOT NULL,
     crc INTEGER NOT NULL,
     PRIMARY KEY (issuer, seq)
   );
   CREATE TABLE staging (issuer TEXT PRIMARY KEY, seq INTEGER NOT NULL, parts INTEGER NOT NULL);
   CREATE TABLE staged_parts (
     issuer TEXT NOT NULL,
     part INTEGER NOT NULL,
     hashes BLOB NOT NULL,
     PRIMARY KEY (issuer, part)
   );`,
];
