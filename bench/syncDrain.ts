import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { v7 as uuidv7 } from 'uuid';
import { Collector } from '../provisioning/collector/collector.js';
import { Mosquitto } from '../sim/mosquittoProcess.js';
import { Journal } from '../src/core/journal.js';
import { silentLog } from '../src/core/log.js';
import { DEFAULT_UPLOADER, TapUploader } from '../src/core/sync/tapUploader.js';
import { topics } from '../src/core/sync/topics.js';
import type { Tap } from '../src/core/tap.js';

/*
 * sync.drain: a gate that was offline with a backlog of buffered taps comes
 * back; how long until every tap is stored by the reference collector and
 * acknowledged, through a local mosquitto. Gate uploader, broker and
 * collector share this machine's two cores, as they would not in the field.
 */

const GATE = 'BENCH-SYNC';

function backlog(count: number): Tap[] {
  const start = Date.parse('2026-11-23T07:00:00Z');
  return Array.from({ length: count }, (_, i) => ({
    id: uuidv7(),
    seq: i + 1,
    at: new Date(start + i * 300).toISOString(),
    gate: GATE,
    site: 'bench-site',
    mode: 'metro-entry',
    kind: 'code',
    issuer: 'cq.yukuaima',
    subject: `acct-${i % 5000}`,
    category: 'adult',
    result: 'accepted',
    reason: 'ok',
    fare: 200,
    product: null,
    latencyMs: 0.8,
    place: null,
    emv: null,
  }));
}

export interface DrainFigure {
  name: string;
  unit: 'ms';
  value: number;
  taps: number;
  batchSize: number;
  window: number;
  rssMB: number;
  goalMs: number;
}

export async function syncDrain(count: number, baseDir: string): Promise<DrainFigure> {
  const dir = mkdtempSync(join(baseDir, 'sync-'));
  const broker = await Mosquitto.start();
  const journal = Journal.open(join(dir, 'journal.db'), GATE, 'bench-site');
  journal.adoptTaps(backlog(count));
  const collector = new Collector({ broker: broker.url, db: join(dir, 'collector.db'), clientId: 'bench-collector', log: silentLog });
  await collector.start();
  const client = await mqtt.connectAsync(broker.url, { clientId: 'bench-gate', clean: true });
  try {
    const uploader = new TapUploader(journal, GATE, async (payload) => void (await client.publishAsync(topics.taps(GATE), payload, { qos: 1 })), silentLog, DEFAULT_UPLOADER);
    await client.subscribeAsync(topics.tapsAck(GATE), { qos: 1 });
    const done = new Promise<void>((resolve) => {
      client.on('message', (_topic, payload) => {
        uploader.onAck(payload);
        if (journal.deliveredSeq() === count) resolve();
      });
    });
    const t0 = performance.now();
    uploader.connected();
    await done;
    const ms = performance.now() - t0;
    const stored = collector.stats().stored;
    if (stored !== count) throw new Error(`collector stored ${stored} of ${count} taps`);
    return { name: `sync.drain.${count >= 1000 ? `${count / 1000}k` : count}`, unit: 'ms', value: Math.round(ms), taps: count, batchSize: DEFAULT_UPLOADER.batchSize, window: DEFAULT_UPLOADER.window, rssMB: Math.round(process.memoryUsage().rss / 2 ** 20), goalMs: 20_000 };
  } finally {
    await client.endAsync();
    await collector.stop();
    journal.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  syncDrain(Number(process.env.BENCH_SYNC_TAPS || 100_000), process.env.BENCH_DIR || tmpdir()).then((figure) => process.stdout.write(`${JSON.stringify(figure)}\n`));
}
