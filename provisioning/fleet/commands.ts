import { InvalidArgumentError, type Command } from 'commander';
import { COMMAND_TYPES } from './commandTypes.js';
import type { FleetCmdOptions } from './fleetCmd.js';
import type { FleetDenyOptions } from './fleetDeny.js';
import type { FleetRevokeOptions } from './fleetRevoke.js';
import type { FleetTrustOptions } from './fleetTrust.js';
import type { FleetWatchOptions } from './fleetWatch.js';
import type { FleetAclOptions } from './serve/fleetAcl.js';
import type { FleetServeOptions } from './serve/fleetServe.js';

function seconds(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return value;
}

function wholeSeconds(text: string): number {
  const value = seconds(text);
  if (!Number.isInteger(value)) throw new InvalidArgumentError('expected a positive whole number of seconds');
  return value;
}

/**
 * The broker and how to reach it over TLS, as the gate's `sync` settings:
 * flags, or a JSON file `{"broker", "tls": {"ca", "cert", "key"}}` they override.
 */
export function brokerOptions(command: Command, what = 'publish to this broker'): Command {
  return command
    .option('--broker <url>', `${what}, e.g. mqtts://broker:8883 (user:password in the URL is never printed)`)
    .option('--ca <file>', "the CA that signed the broker's certificate (PEM)")
    .option('--cert <file>', "this tool's client certificate (PEM), for a broker that requires one")
    .option('--key <file>', 'the private key of --cert (PEM)')
    .option('--config <file>', 'a JSON file {"broker", "tls": {"ca", "cert", "key"}} (paths relative to it); flags override it');
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

  brokerOptions(
    fleet
      .command('deny')
      .description("change an issuer's deny list, publish the signed update and wait for the online gates to report it (exit 0 all current, 1 some online gate not, 2 error)")
      .requiredOption('--dir <dir>', 'fleet-ops directory (key and state)')
      .requiredOption('--issuer <id>', 'issuer whose list changes (one of the trust list published with "fleet trust")'),
  )
    .option('--print', 'write the signed messages to standard output as JSON lines instead of publishing; DIR is not changed (a preview) unless --commit')
    .option('--commit', 'with --print: record the change and its seq in DIR, for a hand-over where every printed line is then published')
    .option('--add <entry...>', 'subjects or cti:<hex> code ids to deny')
    .option('--remove <entry...>', 'entries to lift')
    .option('--csv <file...>', 'CSV files whose first column lists entries to deny (a header "subject" is allowed)')
    .option('--snapshot', 'publish the whole list (base 0, in parts of 100,000 entries); without changes: again at the current seq, to answer a resync')
    .option('--force', 'publish for an issuer the trust list published from DIR does not name')
    .option('--timeout <seconds>', 'how long to wait for the broker', seconds, 10)
    .option('--wait <seconds>', 'how long to wait for the online gates to report the new seq', seconds, 10)
    .action(async (options: FleetDenyOptions) => {
      const { fleetDeny } = await import('./fleetDeny.js');
      process.exitCode = await fleetDeny(options);
    });

  brokerOptions(
    fleet
      .command('trust')
      .description('sign a trust list and publish it retained to every gate (exit 0 delivered, 2 error)')
      .requiredOption('--dir <dir>', 'fleet-ops directory (key and state)')
      .requiredOption('--file <trust.json>', 'the trust list (DESIGN.md §2)'),
  )
    .option('--print', 'write the signed message to standard output as a JSON line instead of publishing; DIR is not changed (a preview) unless --commit')
    .option('--commit', 'with --print: record the list and its seq in DIR, for a hand-over')
    .option('--timeout <seconds>', 'how long to wait for the broker', seconds, 10)
    .action(async (options: FleetTrustOptions) => {
      const { fleetTrust } = await import('./fleetTrust.js');
      process.exitCode = await fleetTrust(options);
    });

  brokerOptions(
    fleet
      .command('revoke')
      .description('change the bank-card issuer-certificate revocation list and publish it signed and retained to every gate (exit 0 delivered, 2 error)')
      .requiredOption('--dir <dir>', 'fleet-ops directory (key, state and the list held)'),
  )
    .option('--print', 'write the signed message to standard output as a JSON line instead of publishing; DIR is not changed (a preview) unless --commit')
    .option('--commit', 'with --print: record the list and its seq in DIR, for a hand-over')
    .option('--add <entry...>', 'issuer certificates to revoke, RID:INDEX:SERIAL in hex (e.g. A000000333:03:00012F)')
    .option('--remove <entry...>', 'entries to lift')
    .option('--file <revocations.json>', 'a whole list {"revoked": [{"rid", "index", "serial"}]} replacing the one held, before --add and --remove')
    .option('--valid-days <days>', 'how long gates may still apply this message (default 30)', Number)
    .option('--timeout <seconds>', 'how long to wait for the broker', seconds, 10)
    .action(async (options: FleetRevokeOptions) => {
      const [{ fleetRevoke }, { withDirLock }] = await Promise.all([import('./fleetRevoke.js'), import('./dirLock.js')]);
      // The list held is a file read before the transaction: one revoke at a time per DIR (docs/fleet-tools.md).
      process.exitCode = await withDirLock(options.dir, 'revoke', () => fleetRevoke(options));
    });

  brokerOptions(
    fleet
      .command('cmd')
      .description('send a signed command to one gate and print its result (exit 0 done, 1 refused, 2 no answer or error)')
      .requiredOption('--dir <dir>', 'fleet-ops directory (key)'),
    'broker URL',
  )
    .requiredOption('--gate <id>', 'the gate')
    .argument('<type>', COMMAND_TYPES.join(' | '))
    .argument('[mode]', 'for set-mode: the new mode')
    .option('--issuer <id>', 'for resync: only this issuer')
    .option('--ttl <seconds>', 'how long the command stays valid', wholeSeconds, 60)
    .option('--wait <seconds>', 'how long to wait for the result', seconds, 10)
    .action(async (type: string, mode: string | undefined, options: Omit<FleetCmdOptions, 'type' | 'mode'>) => {
      const { fleetCmd } = await import('./fleetCmd.js');
      process.exitCode = await fleetCmd({ ...options, type, mode });
    });

  brokerOptions(fleet.command('watch').description("print gates' status and resync requests as JSON lines until interrupted"), 'broker URL')
    .option('--gate <id>', 'only this gate')
    .action(async (options: Omit<FleetWatchOptions, 'signal'>) => {
      const { fleetWatch } = await import('./fleetWatch.js');
      process.exitCode = await fleetWatch({ ...options, signal: untilSignalled() });
    });

  brokerOptions(
    fleet
      .command('serve')
      .description('the fleet service: gate registry, resync answers from DIR, tap counts, dashboard and /metrics on --http, until stopped (docs/fleet-tools.md)')
      .requiredOption('--dir <dir>', 'fleet-ops directory (key, state, registry)'),
    'broker URL',
  )
    .option('--http <host:port>', 'dashboard and metrics address (default 127.0.0.1:9480)')
    .option('--client-id <id>', 'MQTT client id, stable across restarts', 'citygate-fleet-serve')
    .option('--no-taps', 'do not read tap batches (no taps-per-minute chart)')
    .action(async (options: Omit<FleetServeOptions, 'signal'>) => {
      const { fleetServe } = await import('./serve/fleetServe.js');
      process.exitCode = await fleetServe({ ...options, signal: untilSignalled() });
    });

  fleet
    .command('acl')
    .description("write the broker's per-gate ACL (mosquitto acl_file) from DIR's gate registry; --gate registers gates before they first connect")
    .requiredOption('--dir <dir>', 'fleet-ops directory (registry)')
    .option('--gate <id=site...>', 'register gates: ID=SITE')
    .option('--fleet-ops <name...>', 'usernames (certificate CNs) of fleet ops and the fleet service (default fleet-ops)')
    .option('--collector <name...>', 'usernames of the collectors (default collector)')
    .option('--out <file>', 'write the ACL here (atomically) instead of standard output')
    .action(async (options: FleetAclOptions) => {
      const { fleetAcl } = await import('./serve/fleetAcl.js');
      process.exitCode = fleetAcl(options);
    });
}
