import { beforeAll, describe, expect, it } from 'vitest';
import { hostileCatalogue } from '../faults/hostile/catalogue.js';
import { runHostile, type HostileFigures, type HostileResult } from '../faults/hostile/runHostile.js';

/*
 * Issue 7, item 6: a running gate pair (real FleetLink on a private
 * mosquitto, gate A also behind a private pcscd + vpcd) attacked with every
 * case of faults/hostile's catalogue. Each attack must be refused with its
 * own reason and change nothing else; each control (the genuine credential
 * or message) must pass at the same gate, so a refusal that only comes from
 * a broken setup shows up.
 */

const catalogue = hostileCatalogue();
let figures: HostileFigures;

beforeAll(async () => {
  figures = await runHostile({ pcsc: true });
  console.log(`hostile credentials: ${JSON.stringify({ ...figures, results: undefined })}`);
}, 120_000);

function result(name: string): HostileResult {
  const found = figures.results.find((r) => r.case === name);
  if (!found) throw new Error(`case "${name}" did not run`);
  return found;
}

describe('hostile credentials against a running gate', () => {
  it('ran every case of the catalogue, with the PC/SC cases', () => {
    expect(figures.results.map((r) => r.case)).toEqual(catalogue.map((c) => c.name));
    expect(figures.cases + figures.controls).toBe(catalogue.length);
    expect(catalogue.filter((c) => c.needs === 'pcsc').length).toBeGreaterThan(0);
  });

  describe.each([...new Set(catalogue.map((c) => c.group))])('%s', (group) => {
    it.each(catalogue.filter((c) => c.group === group).map((c) => [c.control ? 'control' : 'attack', c.name, c.expected] as const))('%s: %s gives %s', (_kind, name, expected) => {
      expect(result(name).got).toBe(expected);
    });
  });

  it('every attack refused rightly and every control accepted, as the figures count them', () => {
    expect(figures.wrong).toEqual([]);
    expect(figures.refusedRightly).toBe(figures.cases);
    expect(figures.controlsAccepted).toBe(figures.controls);
  });
});
