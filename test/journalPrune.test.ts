import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../src/core/journal.js';
import type { TapDraft } from '../src/core/tap.js';

const dir = mkdtempSync(join(tmpdir(), 'citygate-prune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const draft = (day: number): TapDraft => ({
  at: new Date(Date.UTC(2026, 9, day, 8)).toISOString(),
  mode: 'metro-entry',
  kind: 'code',
  issuer: 'cq.yukuaima',
  subject: `acct-${day}`,
  category: 'adult',
  result: 'accepted',
  reason: 'ok',
  fare: 200,
  product: null,
  latencyMs: 1,
  place: null,
});

describe('retention of delivered taps', () => {
  it('prunes only delivered taps older than the retention, never an undelivered one, never the newest row', () => {
    const journal = Journal.open(join(dir, 'prune.db'), 'G1', 'S1');
    for (let day = 1; day <= 10; day++) journal.append(draft(day));
    journal.markDelivered(6);
    // Everything is older than this cut-off; only delivered taps 1..6 may go.
    expect(journal.pruneDelivered('2026-12-01T00:00:00.000Z')).toBe(6);
    expect(journal.taps().map((t) => t.seq)).toEqual([7, 8, 9, 10]);
    expect(journal.backlog()).toBe(4);

    journal.markDelivered(10);
    expect(journal.pruneDelivered('2026-12-01T00:00:00.000Z')).toBe(3);
    // The newest row holds the seq counter: the next tap continues the sequence after a restart.
    expect(journal.taps().map((t) => t.seq)).toEqual([10]);
    journal.close();
    const reopened = Journal.open(join(dir, 'prune.db'), 'G1', 'S1');
    expect(reopened.append(draft(11)).seq).toBe(11);
    reopened.close();
  });

  it('keeps delivered taps younger than the retention', () => {
    const journal = Journal.open(join(dir, 'young.db'), 'G1', 'S1');
    for (let day = 1; day <= 4; day++) journal.append(draft(day));
    journal.markDelivered(4);
    expect(journal.pruneDelivered('2026-10-03T00:00:00.000Z')).toBe(2);
    expect(journal.taps().map((t) => t.seq)).toEqual([3, 4]);
    journal.close();
  });

  it('never moves the delivered mark back or past the last tap', () => {
    const journal = Journal.open(join(dir, 'mark.db'), 'G1', 'S1');
    for (let day = 1; day <= 3; day++) journal.append(draft(day));
    expect(journal.markDelivered(2)).toBe(2);
    expect(journal.markDelivered(1)).toBe(2);
    expect(journal.markDelivered(99)).toBe(3);
    expect(journal.deliveredSeq()).toBe(3);
    journal.close();
  });
});
