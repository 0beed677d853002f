import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, JournalError } from '../src/core/journal.js';
import { MIGRATIONS } from '../src/core/journalSchema.js';
import type { TapDraft } from '../src/core/tap.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-journal-'));
});
afterEach(() => {
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

const draft = (subject: string): TapDraft => ({
  at: '2026-11-23T08:00:00.000Z',
  mode: 'bus',
  kind: 'card',
  issuer: 'cq.yukuaima',
  subject,
  category: 'senior',
  result: 'accepted',
  reason: 'ok',
  fare: 0,
  product: { site: 'park', entries: 3 },
  latencyMs: 1.5,
  place: { route: '818', stop: 'S12' },
});

describe('journal', () => {
  it('runs in WAL mode with synchronous=FULL and the latest schema', () => {
    const path = join(dir, 'j.db');
    Journal.open(path, 'G1', 'S1').close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
    const journal = Journal.open(path, 'G1', 'S1');
    expect((journal as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true })).toBe(2);
    journal.close();
  });

  it('gives taps a UUIDv7 and a gapless seq that continues after reopening', () => {
    const path = join(dir, 'j.db');
    let journal = Journal.open(path, 'G1', 'S1');
    const a = journal.append(draft('a'));
    const b = journal.append(draft('b'));
    journal.close();
    journal = Journal.open(path, 'G1', 'S1');
    const c = journal.append(draft('c'));
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    for (const t of [a, b, c]) expect(t.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(journal.taps()).toEqual([a, b, c]);
    expect(journal.taps(2)).toEqual([c]);
    expect(c).toMatchObject({ gate: 'G1', site: 'S1', product: { site: 'park', entries: 3 } });
    journal.close();
  });

  it('does not use up a seq when a row is refused', () => {
    const journal = Journal.open(join(dir, 'j.db'), 'G1', 'S1');
    journal.append(draft('a'));
    expect(() => journal.append({ ...draft('bad'), kind: 'tram' as never })).toThrow(/CHECK constraint/);
    expect(journal.append(draft('b')).seq).toBe(2);
    journal.close();
  });

  it('keeps single-use credentials with the tap and forgets them once they expire', () => {
    const path = join(dir, 'j.db');
    const journal = Journal.open(path, 'G1', 'S1');
    journal.append(draft('a'), { key: 'cti:x:01', until: 2_000 });
    journal.append(draft('b'), { key: 'cti:x:02', until: 5_000 });
    expect(journal.usedCredentials(1_000).map((u) => u.key)).toEqual(['cti:x:01', 'cti:x:02']);
    expect(journal.usedCredentials(3_000).map((u) => u.key)).toEqual(['cti:x:02']);
    expect(journal.pruneUsedCredentials(3_000)).toBe(1);
    journal.close();
  });

  it('leaves WAL checkpoints to idle moments', () => {
    const path = join(dir, 'j.db');
    const journal = Journal.open(path, 'G1', 'S1');
    // The main database file alone (without its WAL) shows what has been checkpointed.
    const checkpointedTaps = () => {
      copyFileSync(path, join(dir, 'copy.db'));
      const copy = new Database(join(dir, 'copy.db'), { readonly: true });
      const count = (copy.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'taps'").get() as { n: number }).n
        ? (copy.prepare('SELECT count(*) AS n FROM taps').get() as { n: number }).n
        : 0;
      copy.close();
      return count;
    };
    for (let i = 0; i < 50; i++) journal.append(draft(`s${i}`));
    journal.checkpointIfDue();
    expect(checkpointedTaps()).toBe(0);
    for (let i = 50; i < 150; i++) journal.append(draft(`s${i}`));
    expect(checkpointedTaps()).toBe(0);
    journal.checkpointIfDue();
    expect(checkpointedTaps()).toBe(150);
    journal.close();
  });

  it('belongs to one gate', () => {
    const path = join(dir, 'j.db');
    Journal.open(path, 'G1', 'S1').close();
    expect(() => Journal.open(path, 'G2', 'S1')).toThrow(JournalError);
    expect(() => Journal.open(path, 'G2', 'S1')).toThrow(/belongs to gate G1/);
  });

  it('refuses a journal from a newer citygate', () => {
    const path = join(dir, 'j.db');
    const db = new Database(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => Journal.open(path, 'G1', 'S1')).toThrow(/newer than this citygate/);
  });

  it('says which file it cannot open', () => {
    expect(() => Journal.open(join(dir, 'missing', 'j.db'), 'G1', 'S1')).toThrow(/cannot open journal .*missing/);
  });
});
