import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../src/core/journal.js';
import type { Tap, TapDraft } from '../src/core/tap.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');
const dir = mkdtempSync(join(tmpdir(), 'citygate-journal-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function citygate(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const FIELDS = ['id', 'seq', 'at', 'gate', 'site', 'mode', 'kind', 'issuer', 'subject', 'category', 'result', 'reason', 'fare', 'product', 'latencyMs', 'place', 'emv'];

let units = 0;
/** A gate's config and state directory, as provisioning leaves them (the journal is STATE/journal.db). */
function unit(gateId: string) {
  const home = join(dir, `unit-${++units}`);
  const state = join(home, 'state');
  mkdirSync(state, { recursive: true });
  const config = join(home, 'config.json');
  writeFileSync(config, JSON.stringify({ gate: { id: gateId, site: 'cq-metro-jiefangbei', mode: 'metro-entry' }, paths: { state, trust: join(home, 'trust.json') } }));
  return { config, journal: join(state, 'journal.db'), open: () => Journal.open(join(state, 'journal.db'), gateId, 'cq-metro-jiefangbei') };
}

function draft(i: number, overrides: Partial<TapDraft> = {}): TapDraft {
  return {
    at: new Date(Date.UTC(2026, 10, 23, 8, 0, i)).toISOString(),
    mode: 'metro-entry',
    kind: i % 2 === 0 ? 'card' : 'code',
    issuer: 'cq.yukuaima',
    subject: `acct-${i}`,
    category: 'adult',
    result: i % 3 === 0 ? 'refused' : 'accepted',
    reason: i % 3 === 0 ? 'expired' : 'ok',
    fare: i % 3 === 0 ? null : 200,
    product: i % 4 === 0 ? { site: 'cq-metro-jiefangbei', entries: 2 } : null,
    latencyMs: 0.5 + i,
    place: i % 5 === 0 ? { station: 'jiefangbei' } : null,
    ...overrides,
  };
}

/** A failed unit: `count` taps, the fleet has acknowledged the first `delivered`. */
function failedUnit(gateId: string, count: number, delivered: number) {
  const failed = unit(gateId);
  const journal = failed.open();
  for (let i = 1; i <= count; i++) journal.append(draft(i));
  journal.markDelivered(delivered);
  const taps = journal.taps();
  journal.close();
  return { ...failed, taps };
}

function jsonLines(text: string): Tap[] {
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Tap);
}

/** RFC 4180, enough to read the export back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

describe('citygate journal export', () => {
  const source = failedUnit('G-EXP', 12, 5);

  it('prints every tap as a JSON line, DESIGN §4 fields in order, equal to the journal', () => {
    const run = citygate(['journal', 'export', '--config', source.config, '--format', 'json']);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    for (const line of lines) expect(Object.keys(JSON.parse(line) as object)).toEqual(FIELDS);
    expect(jsonLines(run.stdout)).toEqual(source.taps);
  });

  it('prints CSV with a header; nulls empty, the product as JSON, commas and quotes escaped', () => {
    const tricky = unit('G-CSV');
    const journal = tricky.open();
    journal.append(draft(4, { subject: 'Wang, "Xiao" 王' }));
    journal.append(draft(3));
    const taps = journal.taps();
    journal.close();
    const run = citygate(['journal', 'export', '--config', tricky.config, '--format', 'csv']);
    expect(run.status, run.stderr).toBe(0);
    const [header, ...rows] = parseCsv(run.stdout);
    // A T-Union tap's purse is the last column; JSON lines leave it out where a tap has none.
    expect(header).toEqual([...FIELDS, 'purse']);
    expect(rows).toHaveLength(2);
    const record = (row: string[]) => Object.fromEntries(FIELDS.map((f, i) => [f, row[i]]));
    expect(record(rows[0]!)).toMatchObject({ id: taps[0]!.id, seq: '1', subject: 'Wang, "Xiao" 王', fare: '200', product: JSON.stringify({ site: 'cq-metro-jiefangbei', entries: 2 }), latencyMs: '4.5' });
    expect(record(rows[1]!)).toMatchObject({ seq: '2', result: 'refused', reason: 'expired', fare: '', product: '' });
  });

  it('selects by --since, --after-seq and --undelivered', () => {
    const seqs = (args: string[]) => jsonLines(citygate(['journal', 'export', '--config', source.config, ...args]).stdout).map((t) => t.seq);
    expect(seqs(['--since', source.taps[8]!.at])).toEqual([9, 10, 11, 12]);
    expect(seqs(['--after-seq', '10'])).toEqual([11, 12]);
    expect(seqs(['--undelivered'])).toEqual([6, 7, 8, 9, 10, 11, 12]);
    expect(seqs(['--undelivered', '--after-seq', '8', '--since', source.taps[9]!.at])).toEqual([10, 11, 12]);
  });

  it('reads a journal file without its config, and writes --out whole with mode 0600', () => {
    const out = join(dir, 'out.jsonl');
    const run = citygate(['journal', 'export', '--journal', source.journal, '--undelivered', '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain('7 taps written');
    expect(jsonLines(readFileSync(out, 'utf8'))).toEqual(source.taps.slice(5));
  });

  it('refuses bad options with exit 2', () => {
    expect(citygate(['journal', 'export', '--config', source.config, '--format', 'xml']).status).toBe(2);
    expect(citygate(['journal', 'export', '--config', source.config, '--since', 'yesterday']).status).toBe(2);
    expect(citygate(['journal', 'export', '--config', source.config, '--journal', source.journal]).status).toBe(2);
  });
});

describe('citygate journal import: a replacement takes over a failed unit', () => {
  function exportUndelivered(from: { config: string }, name: string): string {
    const out = join(dir, name);
    expect(citygate(['journal', 'export', '--config', from.config, '--undelivered', '--out', out]).status).toBe(0);
    return out;
  }
  const importInto = (target: { config: string }, file: string) => citygate(['journal', 'import', '--config', target.config, '--from', file]);

  it('brings every undelivered tap over with its id and seq, once, however often it is imported', () => {
    const failed = failedUnit('G-30', 20, 13);
    const file = exportUndelivered(failed, 'g30.jsonl');
    const replacement = unit('G-30');

    const first = importInto(replacement, file);
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ added: 7, held: 0, upTo: 20, backlog: 7 });

    const again = importInto(replacement, file);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ added: 0, held: 7, upTo: 20, backlog: 7 });

    // A whole export (delivered taps too) adds nothing either: the delivered ones are the fleet's already.
    const whole = join(dir, 'g30-all.jsonl');
    expect(citygate(['journal', 'export', '--config', failed.config, '--out', whole]).status).toBe(0);
    expect(JSON.parse(importInto(replacement, whole).stdout)).toMatchObject({ added: 0, held: 20 });

    const journal = replacement.open();
    // What the replacement will upload is exactly what the fleet lacks: no loss, no duplicate.
    expect(journal.deliveredSeq()).toBe(13);
    expect(journal.taps(journal.deliveredSeq())).toEqual(failed.taps.slice(13));
    // Its own taps go on from the failed unit's seq.
    const next = journal.append(draft(21));
    expect(next.seq).toBe(21);
    expect(next.gate).toBe('G-30');
    journal.close();
  });

  it('merges into a journal that is behind (same taps, fewer): only the missing ones are added', () => {
    const failed = failedUnit('G-31', 10, 2);
    const partial = join(dir, 'g31-part.jsonl');
    expect(citygate(['journal', 'export', '--config', failed.config, '--undelivered', '--out', partial]).status).toBe(0);
    const head = readFileSync(partial, 'utf8').split('\n').slice(0, 4).join('\n');
    const early = join(dir, 'g31-early.jsonl');
    writeFileSync(early, `${head}\n`);
    const replacement = unit('G-31');
    expect(JSON.parse(importInto(replacement, early).stdout)).toEqual({ added: 4, held: 0, upTo: 6, backlog: 4 });
    expect(JSON.parse(importInto(replacement, partial).stdout)).toEqual({ added: 4, held: 4, upTo: 10, backlog: 8 });
    const journal = replacement.open();
    expect(journal.taps()).toEqual(failed.taps.slice(2));
    journal.close();
  });

  it('refuses once the replacement has journaled taps of its own, and leaves its journal as it was', () => {
    const failed = failedUnit('G-32', 10, 6);
    const file = exportUndelivered(failed, 'g32.jsonl');

    // Started before the import and made three taps: seq 7 would follow 3 with a gap.
    const early = unit('G-32');
    let journal = early.open();
    for (let i = 1; i <= 3; i++) journal.append(draft(100 + i));
    const before = journal.taps();
    journal.close();
    const gap = importInto(early, file);
    expect(gap.status).toBe(2);
    expect(gap.stderr).toContain('taps 4..6 are missing');
    journal = early.open();
    expect(journal.taps()).toEqual(before);
    journal.close();

    // Made eight taps: seq 7 and 8 are its own, under other ids.
    const busy = unit('G-32');
    journal = busy.open();
    for (let i = 1; i <= 8; i++) journal.append(draft(200 + i));
    const own = journal.taps();
    journal.close();
    const clash = importInto(busy, file);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toContain('seq 7 of gate G-32 is already another tap');
    journal = busy.open();
    expect(journal.taps()).toEqual(own);
    expect(journal.lastTapSeq()).toBe(8);
    journal.close();
  });

  it('refuses taps of another gate, naming the id to provision with', () => {
    const failed = failedUnit('G-33', 3, 0);
    const file = exportUndelivered(failed, 'g33.jsonl');
    const other = unit('G-34');
    const run = importInto(other, file);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--gate-id G-33');
  });

  it('refuses an export with a gap, a damaged line or CSV, naming the line', () => {
    const failed = failedUnit('G-35', 6, 0);
    const lines = readFileSync(exportUndelivered(failed, 'g35.jsonl'), 'utf8').trimEnd().split('\n');
    const target = unit('G-35');
    const cases: [string, string][] = [
      [[lines[0], lines[1], lines[3]].join('\n'), 'skip from seq 2 to 4'],
      [[lines[0], lines[1]!.replace('"reason":"ok"', '"reason":"fine"').replace('"reason":"expired"', '"reason":"fine"')].join('\n'), 'line 2: reason'],
      [[lines[0], '{"id": '].join('\n'), 'line 2: not JSON'],
      [citygate(['journal', 'export', '--config', failed.config, '--format', 'csv']).stdout, 'CSV export'],
    ];
    cases.forEach(([text, message], i) => {
      const file = join(dir, `g35-bad-${i}.jsonl`);
      writeFileSync(file, text);
      const run = importInto(target, file);
      expect(run.status, message).toBe(2);
      expect(run.stderr).toContain(message);
    });
    const journal = target.open();
    expect(journal.lastTapSeq()).toBe(0);
    journal.close();
  });
});
