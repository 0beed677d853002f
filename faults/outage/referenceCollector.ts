import { join } from 'node:path';
import { Collector } from '../../provisioning/collector/collector.js';
import { RecordingLog } from './recordingLog.js';

export interface ReferenceCollector {
  collector: Collector;
  log: RecordingLog;
  /** Its SQLite store: what "delivered" is checked against. */
  db: string;
}

/** The reference collector (provisioning/collector) with its store in `dir`, connected through `url`; resolves once it collects. */
export async function startReferenceCollector(url: string, dir: string, clientId: string): Promise<ReferenceCollector> {
  const log = new RecordingLog();
  const db = join(dir, 'collector.db');
  const collector = new Collector({ broker: url, db, clientId, log });
  await collector.start();
  return { collector, log, db };
}
