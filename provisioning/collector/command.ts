import type { Command } from 'commander';
import { InputError } from '../../src/app/settingsSchema.js';
import { redactUrl } from '../../src/core/sync/brokerUrl.js';
import type { BrokerFlags } from '../fleet/brokerConnection.js';
import { brokerOptions, untilSignalled } from '../fleet/commands.js';

interface CollectorCommandOptions extends BrokerFlags {
  db: string;
  clientId: string;
  share?: string;
  gaps?: boolean;
}

/** `--gaps`: one JSON line per gate from the database alone, for a technician or a cron job. */
async function printGaps(db: string): Promise<number> {
  const { openTapStorage } = await import('./tapStorage.js');
  let store;
  try {
    store = await openTapStorage(db, { readonly: true });
  } catch (error) {
    throw new InputError(`cannot open ${redactUrl(db)}: ${(error as Error).message}`);
  }
  try {
    for (const gate of await store.progress()) process.stdout.write(`${JSON.stringify(gate)}\n`);
  } finally {
    await store.close();
  }
  return 0;
}

/** `citygate collector`: the reference tap collector (docs/fleet-tools.md). MQTT, the database driver and pino load on use. */
export function registerCollectorCommand(program: Command): void {
  brokerOptions(program.command('collector').description("store every gate's taps in SQLite or PostgreSQL, once by id, and ack them per gate once committed; logs JSON lines to stderr"), 'broker URL')
    .requiredOption('--db <file|url>', 'SQLite file of the taps, or postgres://USER@HOST/DB for PostgreSQL (shared by several collectors)')
    .option('--client-id <id>', 'MQTT client id, stable across restarts (the broker keeps what arrives meanwhile)', 'citygate-collector')
    .option('--share <group>', 'join the shared subscription $share/GROUP/... with other collectors writing to the same --db')
    .option('--gaps', 'print each gate\'s acked seq and missing seqs from --db, and exit')
    .action(async (options: CollectorCommandOptions) => {
      if (options.gaps) {
        process.exitCode = await printGaps(options.db);
        return;
      }
      const [{ default: pino }, { Collector }, { brokerConnection }] = await Promise.all([import('pino'), import('./collector.js'), import('../fleet/brokerConnection.js')]);
      const broker = brokerConnection(options);
      if (!broker) throw new InputError('--broker URL (or --config FILE naming it) is required, or --gaps to read the database only');
      const log = pino({ name: 'collector' }, pino.destination(2));
      const collector = new Collector({ broker: broker.url, tls: broker.tls, db: options.db, clientId: options.clientId, share: options.share, log });
      const stopped = untilSignalled();
      await Promise.race([collector.start(), new Promise((resolve) => stopped.addEventListener('abort', resolve, { once: true }))]);
      if (!stopped.aborted) await new Promise((resolve) => stopped.addEventListener('abort', resolve, { once: true }));
      log.info(await collector.summary(), 'stopping');
      await collector.stop();
      process.exitCode = 0;
    });
}
