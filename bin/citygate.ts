#!/usr/bin/env node
import { registerCollectorCommand } from '../provisioning/collector/command.js';
import { registerJournalCommands, registerProvisionCommands, registerStatusCommand } from '../provisioning/commands.js';
import { registerFleetCommands } from '../provisioning/fleet/commands.js';
import { buildProgram, runCli } from '../src/app/cli.js';
import { driverRegistry } from './driverRegistry.js';
import { InputError } from '../src/app/settingsSchema.js';

const program = buildProgram();

// The simulator is loaded only when asked for: a gate in the field never runs it.
program
  .command('sim')
  .description('run the whole gate on the simulated board; every tap prints as one JSON line')
  .option('--scenario <file>', 'scenario file (docs/scenarios.md); default: the built-in rush hour')
  .option('--journal <file>', 'keep the journal in this SQLite file (default: a temporary file)')
  .option('--pcsc', 'present cards through a private pcscd with the vsmartcard-vpcd virtual reader (its own passengers)')
  .action(async (options: { scenario?: string; journal?: string; pcsc?: boolean }) => {
    if (options.pcsc) {
      if (options.scenario) throw new InputError('--pcsc runs its own passengers through the real PC/SC stack; it takes no --scenario');
      const { pcscSimCommand } = await import('../sim/pcscSim.js');
      process.exitCode = await pcscSimCommand({ journal: options.journal });
      return;
    }
    const { simCommand } = await import('../sim/simCommand.js');
    process.exitCode = await simCommand(options);
  });

const issuer = program.command('issuer').description('test issuers for development: keys, trust list, codes (never for a real issuer)');
issuer
  .command('init')
  .description('make a key per issuer and a trust list trusting them, in DIR')
  .requiredOption('--dir <dir>', 'where to write the keys and trust.json')
  .option('--issuer <spec...>', 'issuers as ID:ALG (ALG is ES256 or EdDSA)', ['cq.yukuaima:ES256', 'sc.tianfu:EdDSA'])
  .action(async (options: { dir: string; issuer: string[] }) => {
    const { issuerInit } = await import('../sim/issuerCommand.js');
    issuerInit(options);
  });
issuer
  .command('code')
  .description('print CG1 codes signed by an issuer saved with init, one per line')
  .requiredOption('--dir <dir>', 'the directory given to init')
  .requiredOption('--issuer <id>', 'issuer id')
  .requiredOption('--sub <id>', 'holder account id')
  .option('--category <category>', 'holder category', 'adult')
  .option('--profile <profile>', 'issuer (online city code) or holder (offline code)', 'issuer')
  .option('--at <iso-8601>', 'issue as of this time instead of now')
  .option('--ttl <seconds>', 'validity', '120')
  .option('--site <id>', 'ticket for this site')
  .option('--entries <n>', 'passages the ticket allows')
  .option('--count <n>', 'this many codes, for holders SUB-1..SUB-N (a load or crash harness)', '1')
  .action(async (options: import('../sim/issuerCommand.js').CodeOptions) => {
    const { issuerCode } = await import('../sim/issuerCommand.js');
    issuerCode(options);
  });

program
  .command('run')
  .description('run the gate as a service: devices, journal, deny list and fleet link from the config file (docs/config.md)')
  .requiredOption('--config <file>', 'config file (JSON)', '/etc/citygate/config.json')
  .action(async (options: { config: string }) => {
    const { runCommand } = await import('../src/app/runCommand.js');
    process.exitCode = await runCommand(options, await driverRegistry());
  });

program
  .command('selftest')
  .description('check everything the gate needs, devices included (stop the service first); exit 0 pass, 1 fail, 2 config unreadable')
  .option('--config <file>', 'config file (JSON)', '/etc/citygate/config.json')
  .option('--click', 'click the barrier relays and light every lamp (only when the lane is clear)')
  .option('--card <seconds>', 'wait this long for a card on each reader', '0')
  .option('--json', 'one JSON array instead of the table')
  .action(async (options: { config: string; click?: boolean; card: string; json?: boolean }) => {
    const cardSec = Number(options.card);
    if (!Number.isFinite(cardSec) || cardSec < 0 || cardSec > 600) throw new InputError(`--card ${JSON.stringify(options.card)} is not a number of seconds (0 to 600)`);
    const { selftest, selftestTable } = await import('../provisioning/selftest.js');
    const checks = await selftest(options.config, await driverRegistry(), { click: options.click ?? false, cardWaitMs: cardSec * 1000, settleMs: 3000, brokerTimeoutMs: 5000 });
    process.stdout.write(options.json ? `${JSON.stringify(checks, null, 2)}\n` : selftestTable(checks));
    // Drivers may keep timers and handles (reconnects, clock checks): the checks are done, so leave now.
    process.exit(checks.some((c) => c.result === 'fail') ? 1 : 0);
  });

// Technician tools: provision, journal export/import, status.
registerProvisionCommands(program);
registerJournalCommands(program);
registerStatusCommand(program);

// Fleet ops: the fleet-ops key, signed deny lists, trust lists and commands, and the reference collector.
registerFleetCommands(program);
registerCollectorCommand(program);

await runCli(program, process.argv.slice(2));
