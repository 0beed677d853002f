import { Collector, type CollectorCounts } from '../../provisioning/collector/collector.js';
import { CountingLog } from './countingLog.js';

/*
 * One reference collector (provisioning/collector/) in its own process, so
 * that the rig can freeze it with SIGSTOP as a stalled host would be. Args:
 * broker URL, PostgreSQL URL, client id, share group. Reports its counts
 * over IPC every half second and on request.
 */

export type CollectorReport = { type: 'counts'; counts: CollectorCounts; log: [string, number][] } | { type: 'collecting' } | { type: 'stopped' };

const [broker, db, clientId, share] = process.argv.slice(2);
if (!broker || !db || !clientId || !share) {
  process.stderr.write('usage: collectorWorker BROKER_URL POSTGRES_URL CLIENT_ID SHARE_GROUP\n');
  process.exit(2);
}
const log = new CountingLog();
const collector = new Collector({ broker, db, clientId, share, log });

function report(then?: () => void): void {
  process.send?.({ type: 'counts', counts: collector.counts(), log: [...log.counts] } satisfies CollectorReport, undefined, undefined, () => then?.());
}

const timer = setInterval(() => report(), 500);
process.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  clearInterval(timer);
  void collector.stop().finally(() => report(() => process.exit(0)));
});
process.on('disconnect', () => process.exit(0));
collector.start().then(
  () => process.send?.({ type: 'collecting' } satisfies CollectorReport),
  (error: unknown) => {
    process.stderr.write(`collector: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
