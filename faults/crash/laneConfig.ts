import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One simulated lane under test: its gate id, state directory and config file. */
export interface Lane {
  gate: string;
  site: string;
  dir: string;
  configPath: string;
  journalPath: string;
}

/** The simulated lane's devices: codes on stdin, the sim barrier, passenger, lights, display and a trusted clock. */
export const SIM_LANE_DEVICES = {
  scanners: [{ driver: 'sim', input: '-' }],
  barrier: { driver: 'sim' },
  passage: { driver: 'sim', walkMs: 50 },
  indicators: { driver: 'sim' },
  display: { driver: 'sim' },
  clock: { driver: 'sim', trusted: true },
};

/**
 * A lane's config as a user writes it: codes on stdin, the sim barrier and
 * passenger, the broker of the test, metrics on any free port. Each gate has
 * its own site, so that no used-code sharing couples the gates under test.
 * doubleTapMs 0: a code presented again is a replay, never folded into the earlier tap.
 */
export function writeLane(root: string, index: number, brokerUrl: string, trustPath: string): Lane {
  const gate = `CRASH-GATE-${index + 1}`;
  const site = `crash-site-${index + 1}`;
  const dir = join(root, gate);
  const state = join(dir, 'state');
  mkdirSync(state, { recursive: true });
  const configPath = join(dir, 'config.json');
  const config = {
    gate: { id: gate, site, mode: 'metro-entry', doubleTapMs: 0, fares: { default: 200, byCategory: {} } },
    paths: { state, trust: trustPath },
    sync: { broker: brokerUrl },
    devices: SIM_LANE_DEVICES,
    metrics: { port: 0 },
    log: { level: 'info' },
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return { gate, site, dir, configPath, journalPath: join(state, 'journal.db') };
}
