import type { Command } from 'commander';
import { InputError } from '../../src/app/settingsSchema.js';
import { untilSignalled } from '../fleet/commands.js';

interface CollectorCommandOptions {
  broker?: string;
  db: string;
  clientId: string;
  share?: string;
  gaps?: boolean;
}

/** `--gaps`: one JSON line per gate from the database alone, for a technician or a cron job. */
async function printGaps(db: string): Promise<number> {
  const { TapStore } = await import('./tapStore.js');
  let store;
  try {
    store = new TapStore(db, true);
  } catch (error) {
    throw new InputError(`cannot open ${db}: ${(error as Error).message}`);
  }
  try {
    for (const gate of store.progress()) process.stdout.write(`${JSON.stringify(gate)}\n`);
  } finally {
    store.close();
  }
  return 0;
}

/** `citygate collector`: the reference tap collector (docs/fleet-tools.md). MQTT, SQLite and pino load on use. */
export function registerCollectorCommand(program: Command): void {
  program
    .command('collector')
    .description("store every gate's taps in SQLite, once by id, and ack them per gate; logs JSON lines to stderr")
    .option('--broker <url>', 'broker URL, e.g. mqtts://broker:8883')
    .requiredOption('--db <file>', 'SQLite file of the taps')
    .option('--client-id <id>', 'MQTT client id, stable across restarts (the broker keeps what arrives meanwhile)', 'citygate-collector')
    .option('--share <group>', 'join the shared subscription $share/GROUP/... with other collectors writing to the same --db')
    .option('--gaps', 'print each gate\'s acked seq and missing seqs from --db, and exit')
    .action(async (options: CollectorCommandOptions) => {
      if (options.gaps) {
        process.exitCode = await printGaps(options.db);
        return;
      }
      if (!options.broker) throw new InputError('--broker URL is required (or --gaps to read the database only)');
      const [{ default: pino }, { Collector }] = await Promise.all([import('pino'), import('./collector.js')]);
      const log = pino({ name: 'collector' }, pino.destination(2));
      const collector = new Collector({ broker: options.broker, db: options.db, clientId: options.clientId, share: options.share, log });
      const stopped = untilSignalled();
      await Promise.race([collector.start(), new Promise((resolve) => stopped.addEventListener('abort', resolve, { once: true }))]);
      if (!stopped.aborted) await new Promise((resolve) => stopped.addEventListener('abort', resolve, { once: true }));
      log.info(collector.stats(), 'stopping');
      await collector.stop();
      process.exitCode = 0;
    });
}
