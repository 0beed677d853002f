import { mkdirSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';
import type { DenyList } from '../denyList.js';
import { silentLog, type Log } from '../log.js';
import { DENY_LIST_MIGRATIONS } from './denyListSchema.js';
import type { ApplyResult, DenyListUpdate } from './denyListUpdate.js';
import { HASH_ID, hashCti, hashEntry } from './entryHash.js';
import { SortedHashes, hashesOf, wordsFor, type Delta } from './sortedHashes.js';

export const DENY_LIST_FILE = 'denylist.db';

/**
 * Hashes per chunk row: 32 MiB blobs. Reading a blob allocates it twice
 * (SQLite, then a Buffer) until the next GC; at this size glibc serves both
 * with mmap and gives them back when freed, where 1 MiB blobs came from its
 * heap and left ~30 MB of RSS behind at 10M entries (docs/denylist.md).
 */
const CHUNK_BYTES = 8 * 4_194_304;

/** The store cannot be opened as asked; the message says what a technician should check. */
export class DenyListStoreError extends Error {
  override name = 'DenyListStoreError';
}

/** An update that breaks the rules of docs/sync.md; nothing of it was applied. */
export class DenyListUpdateError extends Error {
  override name = 'DenyListUpdateError';
}

export interface DenyListStoreOptions {
  log?: Log;
  /** Fold an issuer's deltas into its chunks once this many are pending (default 8): bounds the replay at open. */
  compactAfterUpdates?: number;
  /** ... or once they hold this many hashes (default 1,048,576). */
  compactAfterEntries?: number;
}

interface IssuerList {
  seq: number;
  hashes: SortedHashes;
  /** Deltas in SQLite not yet folded into the chunks, and the hashes they hold. */
  pendingUpdates: number;
  pendingEntries: number;
}

interface IssuerRow {
  issuer: string;
  seq: number;
  count: number;
  base_seq: number;
  base_count: number;
}

function blobOf(words: Uint32Array | Uint8Array, from = 0, length = words.byteLength): Buffer {
  return Buffer.from(words.buffer, words.byteOffset + from, length);
}

/** A blob of hashes as pairs, copied to an aligned array; undefined if its length is not whole hashes. */
function pairsOf(blob: Buffer): Uint32Array | undefined {
  if (blob.length % 8 !== 0) return undefined;
  const words = new Uint32Array(blob.length / 4);
  new Uint8Array(words.buffer).set(blob);
  return words;
}

function problemWith(update: DenyListUpdate): string | undefined {
  const { issuer, seq, base, add, remove, part } = update;
  if (typeof issuer !== 'string' || issuer === '') return 'issuer is empty';
  if (!Number.isSafeInteger(seq) || seq < 1) return `seq ${String(seq)} is not an integer >= 1`;
  if (!Number.isSafeInteger(base) || base < 0) return `base ${String(base)} is not an integer >= 0`;
  for (const [name, list] of [['add', add], ['remove', remove]] as const) {
    if (!Array.isArray(list) || !list.every((entry) => typeof entry === 'string')) return `${name} is not a list of text`;
  }
  if (part !== undefined) {
    const { index, count } = part;
    if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index) || index < 1 || index > count) {
      return `part ${String(index)} of ${String(count)} is out of range`;
    }
    if (base !== 0) return `part ${index} of ${count} has base ${base}: only snapshots (base 0) come in parts`;
  }
  return undefined;
}

function openProblem(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'SQLITE_BUSY') return 'it is in use by another process (is another citygate running?)';
  if (code === 'SQLITE_CANTOPEN') return 'the directory is not writable or the disk is full';
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return `${message ?? code}: the file is damaged; move it aside and the gate will fetch the lists again (resync)`;
  }
  return message ?? String(error);
}

/**
 * The deny lists of all issuers, persistent in SQLite (WAL,
 * synchronous=FULL) and answered from memory: each entry is a 64-bit hash
 * in a sorted array (docs/denylist.md). An update is committed to SQLite
 * first and then applied to memory, where no lookup can see it half done.
 * One process per directory: the database is locked while open.
 */
export class DenyListStore implements DenyList {
  private readonly lists = new Map<string, IssuerList>();
  private readonly probe = new Uint32Array(2);
  private readonly log: Log;
  private readonly compactAfterUpdates: number;
  private readonly compactAfterEntries: number;
  private readonly statements: Statements;

  private constructor(
    private readonly db: Database.Database,
    options: DenyListStoreOptions,
  ) {
    this.log = options.log ?? silentLog;
    this.compactAfterUpdates = options.compactAfterUpdates ?? 8;
    this.compactAfterEntries = options.compactAfterEntries ?? 1_048_576;
    this.statements = prepare(db);
  }

  /** Opens (creating if need be) the store in `dir`, loading every issuer's list into memory. */
  static open(dir: string, options: DenyListStoreOptions = {}): DenyListStore {
    const path = join(dir, DENY_LIST_FILE);
    if (endianness() !== 'LE') throw new DenyListStoreError(`cannot open deny list store ${path}: its format needs a little-endian CPU`);
    let db: Database.Database | undefined;
    try {
      mkdirSync(dir, { recursive: true });
      // A second holder fails fast rather than after better-sqlite3's default 5 s wait.
      db = new Database(path, { timeout: 1000 });
      // Held for the life of the store: a second process would see other lists than its memory.
      // Takes effect when the file is created: 16 KiB pages read the 1 MiB chunks ~2x faster than 4 KiB.
      db.pragma('page_size = 16384');
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
      migrate(db);
      const store = new DenyListStore(db, options);
      store.load();
      return store;
    } catch (error) {
      db?.close();
      const problem = error instanceof DenyListStoreError ? error.message : openProblem(error);
      throw new DenyListStoreError(`cannot open deny list store ${path}: ${problem}`);
    }
  }

  isDenied(issuer: string, subject: string, cti: string | undefined): boolean {
    const list = this.lists.get(issuer);
    if (list === undefined) return false;
    const probe = this.probe;
    hashEntry(subject, probe, 0);
    if (list.hashes.has(probe[0]!, probe[1]!)) return true;
    if (cti === undefined) return false;
    hashCti(cti, probe, 0);
    return list.hashes.has(probe[0]!, probe[1]!);
  }

  /** The seq held for `issuer`; 0 when none. */
  seq(issuer: string): number {
    return this.lists.get(issuer)?.seq ?? 0;
  }

  seqs(): Record<string, number> {
    return Object.fromEntries([...this.lists].map(([issuer, list]) => [issuer, list.seq]));
  }

  /** Entries listed for `issuer`, or for all issuers. */
  size(issuer?: string): number {
    if (issuer !== undefined) return this.lists.get(issuer)?.hashes.size ?? 0;
    let total = 0;
    for (const list of this.lists.values()) total += list.hashes.size;
    return total;
  }

  /**
   * Applies one verified update as docs/sync.md says. Throws
   * DenyListUpdateError, applying nothing, if the update breaks its shape
   * rules; an error from the disk propagates the same way, leaving the
   * previous list in force both on disk and in memory.
   */
  apply(update: DenyListUpdate): ApplyResult {
    const problem = problemWith(update);
    if (problem !== undefined) throw new DenyListUpdateError(`deny-list update for ${String(update.issuer)}: ${problem}`);
    const { issuer, seq, base } = update;
    const held = this.seq(issuer);
    if (seq <= held) {
      this.log.info({ issuer, seq, held }, 'deny-list update at or below the held seq ignored (replay or rollback)');
      return { status: 'ignored', held };
    }
    if (base !== 0 && base !== held) {
      this.log.warn({ issuer, seq, base, held }, 'deny-list update does not follow the held seq: gap, resync needed');
      return { status: 'gap', held };
    }
    if (base !== 0) return this.applyDelta(update);
    // A snapshot is an empty list, then its removes, then its adds: its removes change nothing.
    if (update.remove.length > 0) this.log.warn({ issuer, seq, removes: update.remove.length }, 'deny-list snapshot carries removes; they change nothing');
    if (update.part !== undefined && update.part.count > 1) return this.stagePart(update, held);
    const hashes = hashesOf(update.add);
    const words = wordsFor(hashes.length / 2);
    words.set(hashes);
    return this.applySnapshot(issuer, seq, SortedHashes.fromUnsorted(words, hashes.length / 2));
  }

  /**
   * Folds the WAL back when the disk allows it, and closes in any case: a full
   * or read-only card refuses the checkpoint, and the WAL then stays, whole,
   * to be folded back at the next open.
   */
  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Nothing is lost: see above.
    }
    this.db.close();
  }

  private applyDelta(update: DenyListUpdate): ApplyResult {
    const { issuer, seq } = update;
    const list = this.lists.get(issuer)!;
    const delta = list.hashes.delta(hashesOf(update.remove), hashesOf(update.add));
    const count = list.hashes.size + (delta.adds.length - delta.removes.length) / 2;
    const removes = blobOf(delta.removes);
    const adds = blobOf(delta.adds);
    this.db.transaction(() => {
      this.statements.insertDelta.run(issuer, seq, removes, adds, crc32(adds, crc32(removes)));
      this.statements.advanceIssuer.run(seq, count, issuer);
      this.discardStagingUpTo(issuer, seq);
    })();
    if (!list.hashes.apply(delta)) throw new Error(`deny list of ${issuer} out of step with its own delta`);
    list.seq = seq;
    list.pendingUpdates++;
    list.pendingEntries += (delta.adds.length + delta.removes.length) / 2;
    this.log.info({ issuer, seq, added: delta.adds.length / 2, removed: delta.removes.length / 2, size: count }, 'deny-list delta applied');
    if (list.pendingUpdates >= this.compactAfterUpdates || list.pendingEntries >= this.compactAfterEntries) this.compact(issuer, list);
    return { status: 'applied', seq };
  }

  private stagePart(update: DenyListUpdate, held: number): ApplyResult {
    const { issuer, seq } = update;
    const { index, count } = update.part!;
    const hashes = hashesOf(update.add);
    const outcome = this.db.transaction((): { staged: ApplyResult } | { complete: SortedHashes } => {
      const staged = this.statements.staging.get(issuer) as { seq: number; parts: number } | undefined;
      if (staged !== undefined && staged.seq > seq) return { staged: { status: 'ignored', held } };
      if (staged !== undefined && staged.seq === seq && staged.parts !== count) {
        throw new DenyListUpdateError(`deny-list update for ${issuer}: part ${index} of ${count} of seq ${seq}, but its earlier parts said ${staged.parts}`);
      }
      if (staged === undefined || staged.seq < seq) {
        if (staged !== undefined) this.discardStaging(issuer);
        this.statements.insertStaging.run(issuer, seq, count);
      }
      this.statements.insertPart.run(issuer, index, blobOf(hashes));
      const { have, bytes } = this.statements.countParts.get(issuer) as { have: number; bytes: number };
      if (have < count) return { staged: { status: 'staged', seq, have, of: count } };
      const complete = this.assemble(issuer, bytes / 8);
      this.writeSnapshot(issuer, seq, complete);
      return { complete };
    })();
    if ('staged' in outcome) {
      if (outcome.staged.status === 'ignored') this.log.info({ issuer, seq, part: index }, 'deny-list snapshot part older than the one being staged ignored');
      return outcome.staged;
    }
    return this.installSnapshot(issuer, seq, outcome.complete);
  }

  private applySnapshot(issuer: string, seq: number, hashes: SortedHashes): ApplyResult {
    this.db.transaction(() => this.writeSnapshot(issuer, seq, hashes))();
    return this.installSnapshot(issuer, seq, hashes);
  }

  private installSnapshot(issuer: string, seq: number, hashes: SortedHashes): ApplyResult {
    this.lists.set(issuer, { seq, hashes, pendingUpdates: 0, pendingEntries: 0 });
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.log.info({ issuer, seq, size: hashes.size }, 'deny-list snapshot applied');
    return { status: 'applied', seq };
  }

  /** The staged parts of `issuer` as one set; `count` hashes at most. */
  private assemble(issuer: string, count: number): SortedHashes {
    const words = wordsFor(count);
    const bytes = new Uint8Array(words.buffer);
    let at = 0;
    for (const { hashes } of this.statements.parts.iterate(issuer) as Iterable<{ hashes: Buffer }>) {
      bytes.set(hashes, at);
      at += hashes.length;
    }
    return SortedHashes.fromUnsorted(words, count);
  }

  /** Inside a transaction: `hashes` becomes the issuer's whole list at `seq`. */
  private writeSnapshot(issuer: string, seq: number, hashes: SortedHashes): void {
    this.writeChunks(issuer, hashes);
    this.statements.deleteDeltas.run(issuer);
    this.statements.upsertIssuer.run(issuer, seq, hashes.size, seq, hashes.size);
    this.discardStagingUpTo(issuer, seq);
  }

  private writeChunks(issuer: string, hashes: SortedHashes): void {
    this.statements.deleteChunks.run(issuer);
    const bytes = hashes.bytes();
    for (let n = 0, at = 0; at < bytes.length; n++, at += CHUNK_BYTES) {
      const blob = blobOf(bytes, at, Math.min(CHUNK_BYTES, bytes.length - at));
      this.statements.insertChunk.run(issuer, n, blob, crc32(blob));
    }
  }

  /** Folds the pending deltas into new chunks, so that opening the store replays few of them. */
  private compact(issuer: string, list: IssuerList): void {
    this.db.transaction(() => {
      this.writeChunks(issuer, list.hashes);
      this.statements.deleteDeltas.run(issuer);
      this.statements.upsertIssuer.run(issuer, list.seq, list.hashes.size, list.seq, list.hashes.size);
    })();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    list.pendingUpdates = 0;
    list.pendingEntries = 0;
    this.log.info({ issuer, seq: list.seq, size: list.hashes.size }, 'deny-list deltas folded into the list');
  }

  private discardStagingUpTo(issuer: string, seq: number): void {
    const staged = this.statements.staging.get(issuer) as { seq: number } | undefined;
    if (staged !== undefined && staged.seq <= seq) this.discardStaging(issuer);
  }

  private discardStaging(issuer: string): void {
    this.statements.deleteParts.run(issuer);
    this.statements.deleteStaging.run(issuer);
  }

  private load(): void {
    for (const row of this.statements.issuers.all() as IssuerRow[]) {
      const loaded = this.loadIssuer(row);
      if (typeof loaded === 'string') {
        // Better no list and a resync (the next update is a gap) than a wrong one.
        this.log.error({ issuer: row.issuer, problem: loaded }, 'deny list damaged on disk: dropped, the gate will ask the fleet for it again');
        this.db.transaction(() => {
          this.statements.deleteChunks.run(row.issuer);
          this.statements.deleteDeltas.run(row.issuer);
          this.statements.deleteIssuer.run(row.issuer);
        })();
        continue;
      }
      this.lists.set(row.issuer, loaded);
    }
    for (const { issuer, seq } of this.statements.allStaging.all() as { issuer: string; seq: number }[]) {
      if (seq <= this.seq(issuer)) this.db.transaction(() => this.discardStaging(issuer))();
    }
  }

  /** An issuer's list from its chunks and deltas, or what is wrong with them. */
  private loadIssuer(row: IssuerRow): IssuerList | string {
    const words = wordsFor(row.base_count);
    const bytes = new Uint8Array(words.buffer);
    let at = 0;
    for (const chunk of this.statements.chunks.iterate(row.issuer) as Iterable<{ n: number; hashes: Buffer; crc: number }>) {
      if (crc32(chunk.hashes) !== chunk.crc) return `chunk ${chunk.n} fails its checksum`;
      if (at + chunk.hashes.length > 8 * row.base_count) return `chunks hold more than the ${row.base_count} entries recorded`;
      bytes.set(chunk.hashes, at);
      at += chunk.hashes.length;
    }
    if (at !== 8 * row.base_count) return `chunks hold ${at / 8} entries, not the ${row.base_count} recorded`;
    const hashes = SortedHashes.fromSorted(words, row.base_count);
    if (hashes === undefined) return 'chunks are out of order';
    const list: IssuerList = { seq: row.base_seq, hashes, pendingUpdates: 0, pendingEntries: 0 };
    for (const delta of this.statements.deltas.iterate(row.issuer) as Iterable<{ seq: number; removes: Buffer; adds: Buffer; crc: number }>) {
      if (crc32(delta.adds, crc32(delta.removes)) !== delta.crc) return `delta ${delta.seq} fails its checksum`;
      const removes = pairsOf(delta.removes);
      const adds = pairsOf(delta.adds);
      if (removes === undefined || adds === undefined || !hashes.apply({ removes, adds } satisfies Delta)) return `delta ${delta.seq} does not fit the list`;
      list.seq = delta.seq;
      list.pendingUpdates++;
      list.pendingEntries += (removes.length + adds.length) / 2;
    }
    if (list.seq !== row.seq || hashes.size !== row.count) {
      return `replay ends at seq ${list.seq} with ${hashes.size} entries, not seq ${row.seq} with ${row.count}`;
    }
    return list;
  }
}

function prepare(db: Database.Database) {
  return {
    issuers: db.prepare('SELECT issuer, seq, count, base_seq, base_count FROM issuers'),
    upsertIssuer: db.prepare(
      `INSERT INTO issuers (issuer, seq, count, base_seq, base_count) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (issuer) DO UPDATE SET seq = excluded.seq, count = excluded.count, base_seq = excluded.base_seq, base_count = excluded.base_count`,
    ),
    advanceIssuer: db.prepare('UPDATE issuers SET seq = ?, count = ? WHERE issuer = ?'),
    deleteIssuer: db.prepare('DELETE FROM issuers WHERE issuer = ?'),
    chunks: db.prepare('SELECT n, hashes, crc FROM chunks WHERE issuer = ? ORDER BY n'),
    insertChunk: db.prepare('INSERT INTO chunks (issuer, n, hashes, crc) VALUES (?, ?, ?, ?)'),
    deleteChunks: db.prepare('DELETE FROM chunks WHERE issuer = ?'),
    deltas: db.prepare('SELECT seq, removes, adds, crc FROM deltas WHERE issuer = ? ORDER BY seq'),
    insertDelta: db.prepare('INSERT INTO deltas (issuer, seq, removes, adds, crc) VALUES (?, ?, ?, ?, ?)'),
    deleteDeltas: db.prepare('DELETE FROM deltas WHERE issuer = ?'),
    staging: db.prepare('SELECT seq, parts FROM staging WHERE issuer = ?'),
    allStaging: db.prepare('SELECT issuer, seq FROM staging'),
    insertStaging: db.prepare('INSERT INTO staging (issuer, seq, parts) VALUES (?, ?, ?)'),
    deleteStaging: db.prepare('DELETE FROM staging WHERE issuer = ?'),
    insertPart: db.prepare('INSERT OR IGNORE INTO staged_parts (issuer, part, hashes) VALUES (?, ?, ?)'),
    countParts: db.prepare('SELECT count(*) AS have, coalesce(sum(length(hashes)), 0) AS bytes FROM staged_parts WHERE issuer = ?'),
    parts: db.prepare('SELECT hashes FROM staged_parts WHERE issuer = ?'),
    deleteParts: db.prepare('DELETE FROM staged_parts WHERE issuer = ?'),
  };
}

type Statements = ReturnType<typeof prepare>;

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > DENY_LIST_MIGRATIONS.length) {
    throw new DenyListStoreError(`deny list schema version ${version} is newer than this citygate (${DENY_LIST_MIGRATIONS.length}); upgrade citygate`);
  }
  for (let v = version; v < DENY_LIST_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(DENY_LIST_MIGRATIONS[v]!);
      if (v === 0) db.prepare("INSERT INTO meta (key, value) VALUES ('hash', ?)").run(HASH_ID);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  const hash = db.prepare("SELECT value FROM meta WHERE key = 'hash'").get() as { value: string } | undefined;
  if (hash?.value !== HASH_ID) {
    throw new DenyListStoreError(`deny lists hashed with ${hash?.value ?? 'nothing recorded'}, this citygate uses ${HASH_ID}; move the file aside and the gate will fetch the lists again`);
  }
}
