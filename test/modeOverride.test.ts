import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modeOverride, saveModeOverride } from '../src/app/modeOverride.js';
import { Journal } from '../src/core/journal.js';

describe('a mode set by fleet command', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function journal(): { open: () => Journal } {
    const dir = mkdtempSync(join(tmpdir(), 'citygate-mode-'));
    dirs.push(dir);
    return { open: () => Journal.open(join(dir, 'journal.db'), 'G1', 'S1') };
  }

  it('outlives a restart while the config still says the mode it overrode', () => {
    const j = journal();
    const first = j.open();
    expect(modeOverride(first, 'metro-entry')).toBeUndefined();
    saveModeOverride(first, 'metro-entry', 'metro-exit');
    first.close();
    const second = j.open();
    expect(modeOverride(second, 'metro-entry')).toBe('metro-exit');
    second.close();
  });

  it('gives way once a technician changes the mode in the config', () => {
    const j = journal();
    const first = j.open();
    saveModeOverride(first, 'metro-entry', 'venue');
    expect(modeOverride(first, 'bus')).toBeUndefined();
    first.setMetaValue('mode_override', '{broken');
    expect(modeOverride(first, 'metro-entry')).toBeUndefined();
    first.close();
  });
});
