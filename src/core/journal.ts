import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { closesPending } from './credentials/tunion/pendingPurses.js';
import { MIGRATIONS } from './journalSchema.js';
import type { Tap, TapDraft } from './tap.js';
import { tapFromRow, tapParameters, type TapRow } from './tapRow.js';

/** Commits after which an idle gate checkpoints the WAL, and after which even a busy one does. */
const IDLE_CHECKPOINT = 100;
const FORCED_CHECKPOINT = 2_000;

/** The journal cannot be opened as asked; the message says what a technician should check. */
export class JournalError extends Error {
  override name = 'JournalError';
}

/**
 * Every tap, accepted or refused, in SQLite: WAL with `synchronous=FULL`, so a
 * tap reported done survives a power cut. One writer (the gate) per file.
 */
export class Journal {
  private readonly db: Database.Database;
  private readonly insertTap: Database.Statement;
  private readonly insertUsed: Database.Statement;
  private readonly holdPurse: Database.Statement;
  private readonly clearPurse: Database.Statement;
  private readonly appendTx: (tap: Tap, used: { key: string; until: number } | undefined) => void;
  /* Prepared once: the upload and site sharing call these for every batch, ack and shared use. */
  private readonly selectMeta: Database.Statement;
  private readonly upsertMeta: Database.Statement;
  private readonly selectTapsAfter: Database.Statement;
  private readonly rememberTx: (used: readonly { key: string; until: number }[]) => void;
  private lastSeq: number;
  private commitsSinceCheckpoint = 0;

  private constructor(
    path: string,
    readonly gate: string,
    readonly site: string,
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // Checkpoints run when the gate is idle (checkpointIfDue), not inside a tap's commit.
    this.db.pragma('wal_autocheckpoint = 0');
    this.migrate();
    this.claimGate();
    this.insertTap = this.db.prepare(
      `INSERT INTO taps (seq, id, at, gate, site, mode, kind, issuer, subject, category, result, reason, fare, product, latency_ms, place, emv, purse)
       VALUES (@seq, @id, @at, @gate, @site, @mode, @kind, @issuer, @subject, @category, @result, @reason, @fare, @product, @latencyMs, @place, @emv, @purse)`,
    );
    this.holdPurse = this.db.prepare(
      'INSERT INTO purse_pending (card, tap_id, at_ms, pending) VALUES (?, ?, ?, ?) ON CONFLICT (card) DO UPDATE SET tap_id = excluded.tap_id, at_ms = excluded.at_ms, pending = excluded.pending',
    );
    this.clearPurse = this.db.prepare('DELETE FROM purse_pending WHERE card = ?');
    // A use is never shortened: whatever else is written for the key, the longest `until` holds.
    this.insertUsed = this.db.prepare('INSERT INTO used_credentials (key, until_ms) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)');
    this.appendTx = this.db.transaction((tap: Tap, used: { key: string; until: number } | undefined) => {
      this.insertTap.run(tapParameters(tap));
      if (used) this.insertUsed.run(used.key, Math.ceil(used.until));
      this.followPurse(tap);
    });
    this.selectMeta = this.db.prepare('SELECT value FROM meta WHERE key = ?');
    this.upsertMeta = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.selectTapsAfter = this.db.prepare('SELECT * FROM taps WHERE seq > ? ORDER BY seq LIMIT ?');
    this.rememberTx = this.db.transaction((used: readonly { key: string; until: number }[]) => {
      for (const { key, until } of used) this.insertUsed.run(key, Math.ceil(until));
    });
    this.lastSeq = (this.db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM taps').get() as { seq: number }).seq;
  }

  static open(path: string, gate: string, site: string): Journal {
    try {
      return new Journal(path, gate, site);
    } catch (error) {
      if (error instanceof JournalError) throw error;
      throw new JournalError(`cannot open journal ${path}: ${(error as Error).message}`);
    }
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new JournalError(`journal schema version ${version} is newer than this citygate (${MIGRATIONS.length}); upgrade citygate`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** A journal belongs to one gate: its seq numbers mean nothing under another id. */
  private claimGate(): void {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'gate'").get() as { value: string } | undefined;
    if (!row) {
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('gate', ?)").run(this.gate);
    } else if (row.value !== this.gate) {
      throw new JournalError(`journal belongs to gate ${row.value}, not ${this.gate}; use that gate's id or a new journal file`);
    }
  }

  /**
   * Commit one tap, with the single-use credential it consumed, in one
   * transaction; returns the tap once it is on disk. Throws if the disk refuses.
   */
  append(draft: TapDraft, used?: { key: string; until: number }): Tap {
    const { at, mode, kind, issuer, subject, category, result, reason, fare, product, latencyMs, place, emv, purse } = draft;
    // Field order as DESIGN.md §4 lists them (then this gate's own), for people reading the JSON.
    const tap: Tap = { id: uuidv7(), seq: this.lastSeq + 1, at, gate: this.gate, site: this.site, mode, kind, issuer, subject, category, result, reason, fare, product, latencyMs, place, emv: emv ?? null, ...(purse ? { purse } : {}) };
    this.appendTx(tap, used);
    this.lastSeq = tap.seq;
    // Bound the WAL even if the gate is never idle.
    if (++this.commitsSinceCheckpoint >= FORCED_CHECKPOINT) this.checkpoint();
    return tap;
  }

  /* T-Union purse purchases (credentials/tunion/): the pending purchase of each card, in the same commits as the taps. */

  /** A purse tap's commit also moves its card's pending purchase: a pending tap holds it, a tap that settles it or pays again clears it. */
  private followPurse(tap: Tap): void {
    const purse = tap.purse;
    if (tap.kind !== 'tunion' || !purse) return;
    if (tap.reason === 'purchase-pending') this.holdPurse.run(purse.card, tap.id, Date.parse(tap.at), JSON.stringify(tap));
    else if (closesPending(purse)) this.clearPurse.run(purse.card);
  }

  /**
   * Commit, before DEBIT is sent, the pending tap the purchase becomes if no
   * answer comes back: a gate killed before the purchase's own tap is
   * committed finds it at its next start (recoverPurses). Throws if the disk refuses.
   */
  intendPurchase(card: string, pending: TapDraft, atMs: number): void {
    this.holdPurse.run(card, null, Math.round(atMs), JSON.stringify(pending));
    if (++this.commitsSinceCheckpoint >= FORCED_CHECKPOINT) this.checkpoint();
  }

  /** At start: purchases whose DEBIT went out before the gate died, with no tap since, become pending taps (uploaded like any tap). */
  recoverPurses(): Tap[] {
    const orphans = this.db.prepare('SELECT card, pending FROM purse_pending WHERE tap_id IS NULL').all() as { card: string; pending: string }[];
    return orphans.map((row) => this.append(JSON.parse(row.pending) as TapDraft));
  }

  /** Pending purchases held now (card, pending tap id or null while DEBIT is in flight). */
  pendingPurchases(): { card: string; tapId: string | null; atMs: number }[] {
    return this.db.prepare('SELECT card, tap_id AS tapId, at_ms AS atMs FROM purse_pending ORDER BY at_ms').all() as { card: string; tapId: string | null; atMs: number }[];
  }

  /** Fold the WAL back into the database if enough has gathered; for idle moments. */
  checkpointIfDue(): void {
    if (this.commitsSinceCheckpoint >= IDLE_CHECKPOINT) this.checkpoint();
  }

  private checkpoint(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
    this.commitsSinceCheckpoint = 0;
  }

  /** Single-use credentials still within their validity, for the replay guard at start. */
  usedCredentials(nowMs: number): { key: string; until: number }[] {
    return (this.db.prepare('SELECT key, until_ms AS until FROM used_credentials WHERE until_ms > ?').all(nowMs) as { key: string; until: number }[]);
  }

  pruneUsedCredentials(nowMs: number): number {
    return this.db.prepare('DELETE FROM used_credentials WHERE until_ms <= ?').run(nowMs).changes;
  }

  /** Remember credentials consumed elsewhere (one message from another gate of the site) in one commit, for replay checks after a restart. */
  rememberUsedMany(used: readonly { key: string; until: number }[]): void {
    this.rememberTx(used);
    if (++this.commitsSinceCheckpoint >= FORCED_CHECKPOINT) this.checkpoint();
  }

  /* Fleet-command nonces (sync/commandHandler.ts): a table of their own, which nothing from the site can reach. */

  /**
   * Record a signed command's nonce, to be kept until `untilMs` (its expiry
   * with the skew); true if the nonce was new. A nonce already held stays held
   * and is never shortened (a longer `until` extends it): a command is played
   * at most once, whatever else is written.
   */
  claimCommandNonce(nonce: string, untilMs: number): boolean {
    const until = Math.ceil(untilMs);
    if (this.db.prepare('INSERT OR IGNORE INTO command_nonces (nonce, until_ms) VALUES (?, ?)').run(nonce, until).changes === 1) return true;
    this.db.prepare('UPDATE command_nonces SET until_ms = max(until_ms, ?) WHERE nonce = ?').run(until, nonce);
    return false;
  }

  /** Whether `nonce` is held, whatever its `until`: a held nonce is only ever removed by {@link pruneCommandNonces}. */
  hasCommandNonce(nonce: string): boolean {
    return this.db.prepare('SELECT 1 FROM command_nonces WHERE nonce = ?').get(nonce) !== undefined;
  }

  /** Forget nonces kept until before `beforeMs`; returns how many. */
  pruneCommandNonces(beforeMs: number): number {
    return this.db.prepare('DELETE FROM command_nonces WHERE until_ms < ?').run(beforeMs).changes;
  }

  /** Highest seq the fleet has acknowledged storing; taps above it are the backlog. */
  deliveredSeq(): number {
    return Number(this.metaValue('delivered_seq') ?? 0);
  }

  /** Move the delivered mark forward (never back); returns the mark now held. */
  markDelivered(upTo: number): number {
    const held = this.deliveredSeq();
    if (upTo <= held) return held;
    const mark = Math.min(upTo, this.lastSeq);
    this.setMetaValue('delivered_seq', String(mark));
    return mark;
  }

  backlog(): number {
    return this.lastSeq - this.deliveredSeq();
  }

  /**
   * Delete delivered taps older than `before` (ISO-8601). An undelivered tap
   * is never deleted, nor the newest row: it carries the seq counter.
   */
  pruneDelivered(before: string): number {
    const keepFrom = Math.min(this.deliveredSeq() + 1, this.lastSeq);
    return this.db.prepare('DELETE FROM taps WHERE seq < ? AND at < ?').run(keepFrom, before).changes;
  }

  metaValue(key: string): string | undefined {
    return (this.selectMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMetaValue(key: string, value: string): void {
    this.upsertMeta.run(key, value);
  }

  taps(afterSeq = 0, limit = 1_000_000): Tap[] {
    return (this.selectTapsAfter.all(afterSeq, limit) as TapRow[]).map(tapFromRow);
  }

  lastTapSeq(): number {
    return this.lastSeq;
  }

  close(): void {
    this.db.close();
  }

  /* Field operations (provisioning/journalExport.ts, journalImport.ts, status.ts): export, status, a failed unit's taps. */

  /** Taps after `afterSeq`, and at or after `since` (ISO-8601 UTC, as `at` is written), in seq order, read as they are used. */
  *eachTap(afterSeq = 0, since = ''): IterableIterator<Tap> {
    for (const row of this.db.prepare('SELECT * FROM taps WHERE seq > ? AND at >= ? ORDER BY seq').iterate(afterSeq, since)) yield tapFromRow(row as TapRow);
  }

  lastTapAt(): string | undefined {
    return (this.db.prepare('SELECT at FROM taps WHERE seq = ?').get(this.lastSeq) as { at: string } | undefined)?.at;
  }

  /**
   * Take over the taps of a failed unit whose identity (gate id) this journal
   * now holds, keeping their id and seq. Taps already here (same seq and id, or
   * delivered and pruned) are skipped, so importing twice adds nothing; the
   * rest must continue the seq without a gap. A tap whose seq is here under
   * another id means this unit already journaled taps of its own: refused, as
   * is a gap, since either would break the fleet's per-gate seq. Into an empty
   * journal, the first tap brought in sets the delivered mark just below it.
   */
  adoptTaps(taps: readonly Tap[]): { added: number; held: number } {
    const sorted = [...taps].sort((a, b) => a.seq - b.seq);
    sorted.forEach((tap, i) => {
      if (tap.gate !== this.gate) throw new JournalError(`tap ${tap.id} (seq ${tap.seq}) is of gate ${tap.gate}; this journal is gate ${this.gate}`);
      const before = sorted[i - 1];
      if (before && tap.seq !== before.seq + 1) throw new JournalError(`the taps to import skip from seq ${before.seq} to ${tap.seq}: export them again, whole`);
    });
    const idAt = this.db.prepare('SELECT id FROM taps WHERE seq = ?');
    const heldBefore = this.lastSeq;
    const adopt = this.db.transaction(() => {
      let added = 0;
      let held = 0;
      for (const tap of sorted) {
        if (tap.seq <= this.lastSeq) {
          const row = idAt.get(tap.seq) as { id: string } | undefined;
          if (row?.id === tap.id || (row === undefined && tap.seq <= this.deliveredSeq())) {
            held++;
            continue;
          }
          throw new JournalError(
            `seq ${tap.seq} of gate ${this.gate} is already another tap here (${row?.id ?? 'missing'}, not ${tap.id}): this unit has journaled taps of its own; import into a fresh journal before the gate's first start`,
          );
        }
        if (this.lastSeq !== 0 && tap.seq !== this.lastSeq + 1) {
          throw new JournalError(`the taps to import start at seq ${tap.seq} but this journal ends at ${this.lastSeq}: taps ${this.lastSeq + 1}..${tap.seq - 1} are missing from the export`);
        }
        this.insertTap.run(tapParameters(tap));
        if (heldBefore === 0 && added === 0) this.setMetaValue('delivered_seq', String(tap.seq - 1));
        this.lastSeq = tap.seq;
        added++;
      }
      return { added, held };
    });
    try {
      return adopt();
    } catch (error) {
      this.lastSeq = heldBefore;
      throw error;
    }
  }

  /* Gate events that are not taps (docs/modes.md): tailgating, emergency release. Local to the gate; the fleet sees them as alarms and status. */

  /** Commit one event; throws if the disk refuses, like append(). `at` is the board clock's wall time (ISO-8601 UTC). */
  appendEvent(type: GateEventType, detail: Record<string, unknown>, at: string): GateEvent {
    const event: GateEvent = { id: uuidv7(), at, type, detail };
    this.db.prepare('INSERT INTO events (id, at, type, detail) VALUES (?, ?, ?, ?)').run(event.id, at, type, JSON.stringify(detail));
    return event;
  }

  /** Events at or after `sinceIso`, oldest first. */
  events(sinceIso = ''): GateEvent[] {
    const rows = this.db.prepare('SELECT id, at, type, detail FROM events WHERE at >= ? ORDER BY at, id').all(sinceIso) as { id: string; at: string; type: string; detail: string | null }[];
    return rows.map((row) => ({ id: row.id, at: row.at, type: row.type as GateEventType, detail: row.detail === null ? {} : (JSON.parse(row.detail) as Record<string, unknown>) }));
  }
}

export type GateEventType = 'tailgate' | 'emergency-start' | 'emergency-end' | 'emergency-passage';

export interface GateEvent {
  id: string;
  at: string;
  type: GateEventType;
  detail: Record<string, unknown>;
}
