import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Collector } from '../../provisioning/collector/collector.js';
import { TestIssuer, trustListOf } from '../../sim/issuer.js';
import { Mosquitto } from '../../sim/mosquittoProcess.js';
import { silentLog } from '../../src/core/log.js';
import { StatusWatch } from './statusWatch.js';
import type { Teardown } from '../teardown.js';

const SITE = 'site-disk';

/** The built CLI, whether this file runs from faults/ (vitest) or from dist/faults/ (npm run faults). */
function citygateBin(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.includes(`${join('dist', 'faults')}`) ? resolve(here, '../../..') : resolve(here, '../..');
  return join(root, 'dist', 'bin', 'citygate.js');
}

/**
 * What every disk scenario shares: a private broker, the reference collector
 * storing every gate's taps, a fleet-side watch on the status topic, a test
 * issuer and its trust file. The trust file and the collector live on the
 * real disk: only the gate's state directory is faulty.
 */
export class DiskRig {
  readonly bin = citygateBin();
  readonly issuer = new TestIssuer('cq.yukuaima', 'ES256');
  private constructor(
    readonly dir: string,
    readonly broker: Mosquitto,
    readonly collector: Collector,
    readonly status: StatusWatch,
    private readonly collectorDb: string,
  ) {}

  static async start(teardown: Teardown): Promise<DiskRig> {
    const dir = mkdtempSync(join(tmpdir(), 'citygate-disk-'));
    teardown.add('remove the temp dir', () => rmSync(dir, { recursive: true, force: true }));
    const broker = await Mosquitto.start();
    teardown.add('stop the broker', () => broker.stop());
    const collectorDb = join(dir, 'collector.db');
    const collector = new Collector({ broker: broker.url, db: collectorDb, clientId: `disk-faults-collector-${process.pid}`, log: silentLog });
    await collector.start();
    teardown.add('stop the collector', () => collector.stop());
    const status = await StatusWatch.start(broker.url);
    teardown.add('stop the status watch', () => status.stop());
    const rig = new DiskRig(dir, broker, collector, status, collectorDb);
    writeFileSync(rig.trustFile(), JSON.stringify(trustListOf([rig.issuer])));
    return rig;
  }

  trustFile(): string {
    return join(this.dir, 'trust.json');
  }

  /** A config for the sim lane (codes on stdin) with its state directory on the faulty mount; returns its path. */
  writeConfig(gateId: string, stateDir: string): string {
    const path = join(this.dir, `${gateId}.json`);
    writeFileSync(
      path,
      JSON.stringify({
        gate: { id: gateId, site: SITE, mode: 'metro-entry', fares: { default: 200, byCategory: {} } },
        paths: { state: stateDir, trust: this.trustFile() },
        sync: { broker: this.broker.url },
        devices: { scanners: [{ driver: 'sim', input: '-' }], barrier: { driver: 'sim' }, passage: { driver: 'sim', walkMs: 30 }, indicators: { driver: 'sim' }, display: { driver: 'sim' }, clock: { driver: 'sim', trusted: true } },
        metrics: { port: 0 },
      }),
    );
    return path;
  }

  /** A fresh issuer-signed code for `subject`; each code the harness presents has its own subject. */
  code(subject: string): string {
    return this.issuer.issuerCode({ sub: subject, iat: Math.floor(Date.now() / 1000) });
  }

  /** The contiguous seq the collector has stored (and acks) for `gate`. */
  collectedUpTo(gate: string): number {
    return this.collector.gaps().find((progress) => progress.gate === gate)?.upTo ?? 0;
  }

  /** The taps the collector stored for `gate`, as id and seq. */
  collected(gate: string): { id: string; seq: number }[] {
    const db = new Database(this.collectorDb, { readonly: true });
    try {
      return db.prepare('SELECT id, seq FROM taps WHERE gate = ? ORDER BY seq').all(gate) as { id: string; seq: number }[];
    } finally {
      db.close();
    }
  }
}
