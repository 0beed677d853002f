import type { Command } from 'commander';
import type { DriverRegistry } from '../src/app/boardBuilder.js';
import { CONFIG_FILE } from './gateFiles.js';
import { SERVICE_USER } from './serviceUser.js';

/*
 * The technician's commands: provision (and install-cert), journal export and
 * import, status. Each loads its module only when run.
 */

const DEFAULT_CONFIG = `/etc/citygate/${CONFIG_FILE}`;

interface ProvisionCommandOptions {
  gateId?: string;
  site?: string;
  zone?: string;
  mode?: string;
  broker?: string;
  trust?: string;
  fleetKey?: string;
  devices?: string;
  sim?: boolean;
  ca?: string;
  capk?: string;
  tokenKey?: string;
  root: string;
  configDir?: string;
  stateDir?: string;
  user: string;
  allowPlainBroker?: boolean;
  force?: boolean;
}

/** Builds the driver registry (bin/driverRegistry.ts): the composition root joins the real and simulated drivers. */
export type RegistryLoader = () => Promise<DriverRegistry>;

export function registerProvisionCommands(program: Command, registry: RegistryLoader): void {
  const provision = program
    .command('provision')
    .description('make this board a gate: device key and CSR, trust list, config and state directory (asks for what is missing or wrong at a terminal)')
    .option('--gate-id <id>', 'gate id, as fleet ops assigned it (the certificate CN and MQTT topics)')
    .option('--site <id>', 'site of the gate')
    .option('--zone <id>', 'zone of the gate, where the site has zones')
    .option('--mode <mode>', 'bus, metro-entry, metro-exit, venue or access')
    .option('--broker <url>', 'fleet broker, mqtts://host:8883 or wss://...')
    .option('--trust <file>', 'trust list (JSON, docs/design.md §2)')
    .option('--fleet-key <file>', 'fleet-ops public key (JWK, fleet-public.json); added to the trust list')
    .option('--devices <file>', 'the config\'s "devices" section (JSON; docs/field-ops.md has a Raspberry Pi example)')
    .option('--sim', 'the simulated board instead of --devices')
    .option('--ca <file>', 'the broker\'s CA certificate (PEM); can also come with install-cert')
    .option('--capk <file>', 'bank cards: the CA public keys (JSON, docs/design.md §5); with --token-key the gate takes UnionPay QuickPass')
    .option('--token-key <file>', 'bank cards: the fleet\'s card token key (64 hex digits, from fleet ops)')
    .option('--root <dir>', 'prefix of the default directories (ROOT/etc/citygate, ROOT/var/lib/citygate)', '/')
    .option('--config-dir <dir>', 'config directory (default ROOT/etc/citygate)')
    .option('--state-dir <dir>', 'state directory (default ROOT/var/lib/citygate)')
    .option('--user <name>', 'the service\'s account: owns the device key and state when run as root', SERVICE_USER)
    .option('--allow-plain-broker', 'accept an mqtt:// or ws:// broker (a lab broker only)')
    .option('--force', 'provision a board that already is a gate (new key; the journal is kept)')
    .action(async (options: ProvisionCommandOptions) => {
      const { collectAnswers, PromptCancelled, refuseMissing } = await import('./provisionAnswers.js');
      const { planProvision, provision } = await import('./provision.js');
      const { gateId, site, zone, mode, broker, trust, fleetKey, devices, sim } = options;
      const flags = { gateId, site, zone, mode, broker, trust, fleetKey, devices, sim };
      const interactive = process.stdin.isTTY === true;
      if (!interactive) refuseMissing(flags);
      const plan = planProvision(
        {
          root: options.root,
          configDir: options.configDir,
          stateDir: options.stateDir,
          force: options.force === true,
          user: options.user,
          ca: options.ca,
          allowPlainBroker: options.allowPlainBroker === true,
          bank: { capk: options.capk, tokenKey: options.tokenKey },
        },
        await registry(),
      );
      let answers: import('./provisionAnswers.js').ProvisionAnswers;
      try {
        answers = await collectAnswers(flags, interactive, plan.checks);
      } catch (error) {
        if (!(error instanceof PromptCancelled)) throw error;
        // Left at a prompt on purpose (readline has ended the prompt's line): one line, the shell's status for an interrupt (128 + SIGINT), or 2 for no answer.
        process.stderr.write(`citygate: ${error.message}\n`);
        process.exitCode = error.how === 'interrupt' ? 130 : 2;
        return;
      }
      const done = provision(answers, plan);
      const { files } = done;
      process.stdout.write(
        [
          `gate ${answers.gateId} provisioned`,
          `  config       ${files.config}`,
          `  state        ${files.stateDir}`,
          `  device key   ${files.deviceKey} (never leaves this board)`,
          `  request      ${files.deviceCsr}`,
          'next:',
          `  1. send ${files.deviceCsr} to fleet ops; they sign it into the MQTT client certificate`,
          `  2. citygate provision install-cert --config ${files.config} --cert CERT.pem${done.caInstalled ? '' : ' --ca BROKER-CA.pem'}`,
          `  3. citygate selftest --config ${files.config}; then systemctl enable --now citygate`,
          '',
        ].join('\n'),
      );
    });

  provision
    .command('install-cert')
    .description('install the client certificate signed from this gate\'s CSR (checked against the device key)')
    .requiredOption('--cert <file>', 'the signed certificate (PEM)')
    .option('--ca <file>', 'the broker\'s CA certificate (PEM)')
    .option('--config <file>', 'the gate\'s config', DEFAULT_CONFIG)
    .action(async (_options: unknown, command: Command) => {
      // `--ca` is also an option of `provision`, which commander gives it when both are on the line.
      const options = command.optsWithGlobals<{ cert: string; ca?: string; config: string }>();
      const { installCert } = await import('./installCert.js');
      const installed = installCert({ config: options.config, cert: options.cert, ca: options.ca });
      for (const warning of installed.warnings) process.stderr.write(`citygate: warning: ${warning}\n`);
      process.stdout.write(`certificate ${installed.subject.replaceAll('\n', ', ')} valid until ${installed.validTo} installed as ${installed.cert}\n`);
    });
}

export function registerJournalCommands(program: Command): void {
  const journal = program.command('journal').description('the tap journal: export for people and fleet ops, import a failed unit\'s taps');
  journal
    .command('export')
    .description('print taps as JSON lines or CSV (DESIGN.md §4 fields)')
    .option('--config <file>', 'the gate\'s config (its journal is paths.state/journal.db)')
    .option('--journal <file>', 'a journal file without its config, e.g. from a failed unit\'s SD card')
    .option('--since <iso-8601>', 'taps at or after this time')
    .option('--after-seq <n>', 'taps with a higher seq')
    .option('--undelivered', 'only taps the fleet has not acknowledged')
    .option('--format <format>', 'json (JSON lines; what import reads) or csv', 'json')
    .option('--out <file>', 'write to this file (mode 0600, complete or absent) instead of standard output')
    .action(async (options: import('./journalExport.js').ExportOptions) => {
      const { exportTaps } = await import('./journalExport.js');
      const config = options.config ?? (options.journal === undefined ? DEFAULT_CONFIG : undefined);
      const count = exportTaps({ ...options, config });
      if (options.out !== undefined) process.stderr.write(`${count} taps written to ${options.out}\n`);
    });
  journal
    .command('import')
    .description('take over a failed unit\'s taps: this unit must be provisioned with the failed unit\'s gate id, before its first start')
    .requiredOption('--from <file>', 'JSON lines from "journal export --format json" on the failed unit')
    .option('--config <file>', 'the gate\'s config', DEFAULT_CONFIG)
    .action(async (options: { from: string; config: string }) => {
      const { importTaps } = await import('./journalImport.js');
      process.stdout.write(`${JSON.stringify(importTaps(options))}\n`);
    });
}

export function registerStatusCommand(program: Command, registry: RegistryLoader): void {
  program
    .command('status')
    .description('the gate\'s state from its files, for a technician on site (exit 0 fit to serve, warnings aside; 1 problems listed; 2 config or a device entry wrong)')
    .option('--config <file>', 'the gate\'s config', DEFAULT_CONFIG)
    .option('--json', 'one JSON object instead of the table')
    .action(async (options: { config: string; json?: boolean }) => {
      const { gateStatus } = await import('./status.js');
      const { statusTable } = await import('./statusTable.js');
      const status = gateStatus(options.config, new Date(), await registry());
      process.stdout.write(options.json ? `${JSON.stringify(status, null, 2)}\n` : statusTable(status));
      process.exitCode = status.problems.length === 0 ? 0 : 1;
    });
}
