import { InvalidArgumentError, type Command } from 'commander';
import type { FleetCmdOptions } from './fleetCmd.js';
import type { FleetDenyOptions } from './fleetDeny.js';
import type { FleetRevokeOptions } from './fleetRevoke.js';
import type { FleetTrustOptions } from './fleetTrust.js';

function seconds(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return value;
}

function wholeSeconds(text: string): number {
  const value = seconds(text);
  if (!Number.isInteger(value)) throw new InvalidArgumentError('expected a whole number of seconds');
  return value;
}

/** Until SIGINT or SIGTERM: how a technician ends a long-running command. */
export function untilSignalled(): AbortSignal {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}

/** `citygate fleet ...`: the fleet-ops tools (docs/fleet-tools.md). Loaded on use, so that `citygate check` does not load MQTT or SQLite. */
export function registerFleetCommands(program: Command): void {
  const fleet = program.command('fleet').description('fleet ops: the fleet-ops key, signed deny lists, trust lists, bank-card revocation lists and commands, gate status (docs/fleet-tools.md)');

  fleet
    .command('init')
    .description('make the fleet-ops key in DIR; prints the public JWK for the "fleet" array of the trust list')
    .requiredOption('--dir <dir>', 'fleet-ops directory (key and state)')
    .option('--alg <alg>', 'ES256 or EdDSA', 'ES256')
    .option('--force', 'replace an existing key')
    .action(async (options: { dir: string; alg: string; force?: boolean }) => {
      const { fleetInit } = await import('./fleetInit.js');
      process.exitCode = fleetInit(options);
    });

  fleet
    .command('deny')
    .description("change an issuer's deny list and publish the signed update (exit 0 delivered, 2 error)")
    .requiredOption('--dir <dir>', 'fleet-ops directory (key and state)')
    .requiredOption('--issuer <id>', 'issuer whose list changes')
    .option('--broker <url>', 'publish to this broker, e.g. mqtts://broker:8883')
    .option('--print', 'write the signed messages to standard output as JSON lines instead of publishing')
    .option('--add <entry...>', 'subjects or cti:<hex> code ids to deny')
    .option('--remove <entry...>', 'entries to lift')
    .option('--csv <file...>', 'CSV files whose first column lists entries to deny (a header "subject" is allowed)')
    .option('--snapshot', 'publish the whole list (base 0, in parts of 100,000 entries); without changes: again at the current seq, to answer a resync')
    .option('--timeout <seconds>', 'how long to wait for the broker', seconds, 10)
    .action(async (options: FleetDenyOptions) => {
      const { fleetDeny } = await import('./fleetDeny.js');
      process.exitCode = await fleetDeny(options);
    });

  fleet
    .command('trust')
    .description('sign a trust list and publish it retained to every gate (exit 0 delivered, 2 error)')
    .requiredOption('--dir <dir>', 'fleet-ops directory (key and state)')
    .requiredOption('--file <trust.json>', 'the trust list (DESIGN.md §2)')
    .option('--broker <url>', 'publish to this broker')
    .option('--print', 'write the signed message to standard output as a JSON line instead of publishing')
    .option('--timeout <seconds>', 'how long to wait for the broker', seconds, 10)
    .action(async (options: FleetTrustOptions) => {
      const { fleetTrust } = await import('./fleetTrust.js');
      process.exitCode = await fleetTrust(options);
    });

  fleet
    .command('revoke')
    .description('change the bank-card issuer-certificate revocation list and publish it signed and retained to every gate (exit 0 delivered, 2 error)')
    .requiredOption('--dir <dir>', 'fleet-ops directory (key, state and the list held)')
    .option('--broker <url>', 'publish to this broker')
    .option('--print', 'write the signed message to standard output as a JSON line instead of publishing')
    .option('--add <entry...>', 'issuer certificates to revoke, RID:INDEX:SERIAL in hex (e.g. A000000333:03:00012F)')
    .option('--remove <entry...>', 'entries to lift')
    .option('--file <revocations.json>', 'a whole list {"revoked": [{"rid", "index", "serial"}]} replacing the one held, before --add and --remove')
    .option('--valid-days <days>', 'how long gates may still apply this message (default 30)', Number)
    .option('--timeout <seconds>', 'how long to wait for the broker', seconds, 10)
    .action(async (options: FleetRevokeOptions) => {
      const { fleetRevoke } = await import('./fleetRevoke.js');
      process.exitCode = await fleetRevoke(options);
    });

  fleet
    .command('cmd')
    .description('send a signed command to one gate and print its result (exit 0 done, 1 refused, 2 no answer or error)')
    .requiredOption('--dir <dir>', 'fleet-ops directory (key)')
    .requiredOption('--broker <url>', 'broker URL')
    .requiredOption('--gate <id>', 'the gate')
    .argument('<type>', 'open | set-mode | resync | reload-trust')
    .argument('[mode]', 'for set-mode: the new mode')
    .option('--issuer <id>', 'for resync: only this issuer')
    .option('--ttl <seconds>', 'how long the command stays valid', wholeSeconds, 60)
    .option('--wait <seconds>', 'how long to wait for the result', seconds, 10)
    .action(async (type: string, mode: string | undefined, options: Omit<FleetCmdOptions, 'type' | 'mode'>) => {
      const { fleetCmd } = await import('./fleetCmd.js');
      process.exitCode = await fleetCmd({ ...options, type, mode });
    });

  fleet
    .command('watch')
    .description("print gates' status and resync requests as JSON lines until interrupted")
    .requiredOption('--broker <url>', 'broker URL')
    .option('--gate <id>', 'only this gate')
    .action(async (options: { broker: string; gate?: string }) => {
      const { fleetWatch } = await import('./fleetWatch.js');
      process.exitCode = await fleetWatch({ ...options, signal: untilSignalled() });
    });
}
