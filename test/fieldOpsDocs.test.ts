import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { driverRegistry } from '../bin/driverRegistry.js';
import { TAP_FIELDS } from '../provisioning/tapRecord.js';
import { checkDevices } from '../src/app/boardBuilder.js';
import { configSchema, loadConfig } from '../src/app/config.js';

/*
 * What a technician copies from docs/field-ops.md and examples/ works as
 * written, and the page says what the code does: its devices example is a
 * gate with a card reader that every driver accepts, its CSV columns are the
 * export's, its packages and groups are install.sh's. provisioning/README.md
 * lists the files that are there.
 */

const ROOT = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const fieldOps = read('docs/field-ops.md');
/** The page as prose: line breaks inside a sentence or a code span do not matter. */
const prose = fieldOps.replace(/\s+/g, ' ');
const registry = await driverRegistry();

function devicesExample(): unknown {
  const section = fieldOps.slice(fieldOps.indexOf('### Devices'));
  const block = /```json\n([\s\S]*?)```/.exec(section);
  expect(block, 'a JSON block under "### Devices"').not.toBeNull();
  return JSON.parse(block![1]!);
}

function shellArray(script: string, name: string): string[] {
  const match = new RegExp(`^${name}=\\(([^)]*)\\)`, 'm').exec(script);
  expect(match, `${name} in systemd/install.sh`).not.toBeNull();
  return match![1]!.trim().split(/\s+/);
}

describe('docs/field-ops.md and examples/', () => {
  it('gives a devices example with a PC/SC card reader that every driver accepts, the same as examples/pi-devices.json', async () => {
    const example = devicesExample();
    expect(example).toEqual(JSON.parse(read('examples/pi-devices.json')));
    const devices = configSchema.shape.devices.parse(example);
    expect(devices.readers.map((reader) => reader.driver)).toEqual(['pcsc']);
    expect(devices.speaker?.driver).toBe('aplay');
    expect(() => checkDevices(devices, registry, 'docs/field-ops.md')).not.toThrow();
    expect(fieldOps).not.toContain('once it is registered');
  });

  it('has example configs that load with their drivers and name the metrics port', () => {
    const configs = readdirSync(join(ROOT, 'examples')).filter((name) => name.endsWith('.json') && name !== 'pi-devices.json');
    expect(configs).toContain('sim-gate.json');
    for (const name of configs) {
      const path = join(ROOT, 'examples', name);
      checkDevices(loadConfig(path, {}).devices, registry, path);
      const written = JSON.parse(read(`examples/${name}`)) as { metrics?: { port?: unknown } };
      expect(typeof written.metrics?.port, `${name}: metrics.port`).toBe('number');
    }
  });

  it('lists the CSV columns of journal export, in order', () => {
    expect(prose).toContain(`\`${TAP_FIELDS.join(', ')}\``);
  });

  it('lists the packages and groups systemd/install.sh installs', () => {
    const script = read('systemd/install.sh');
    expect(prose).toContain(`installs the Debian packages \`${shellArray(script, 'APT_PACKAGES').join(' ')}\``);
    expect(prose).toContain(`in the groups \`${shellArray(script, 'GROUPS_NEEDED').join(' ')}\``);
  });
});

describe('provisioning/README.md', () => {
  it('names every file of provisioning/ and no file that is not there', () => {
    const readme = read('provisioning/README.md');
    const named = new Set([...readme.matchAll(/`([A-Za-z]+\.ts)`/g)].map((match) => match[1]!));
    const present = readdirSync(join(ROOT, 'provisioning')).filter((name) => name.endsWith('.ts'));
    expect([...named].sort()).toEqual(present.sort());
  });
});
