#!/usr/bin/env node
import { buildProgram, runCli } from '../src/app/cli.js';

const program = buildProgram();

// The simulator is loaded only when asked for: a gate in the field never runs it.
program
  .command('sim')
  .description('run the whole gate on the simulated board; every tap prints as one JSON line')
  .option('--scenario <file>', 'scenario file (docs/scenarios.md); default: the built-in rush hour')
  .option('--journal <file>', 'keep the journal in this SQLite file (default: a temporary file)')
  .action(async (options: { scenario?: string; journal?: string }) => {
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
  .description('print one CG1 code signed by an issuer saved with init')
  .requiredOption('--dir <dir>', 'the directory given to init')
  .requiredOption('--issuer <id>', 'issuer id')
  .requiredOption('--sub <id>', 'holder account id')
  .option('--category <category>', 'holder category', 'adult')
  .option('--profile <profile>', 'issuer (online city code) or holder (offline code)', 'issuer')
  .option('--at <iso-8601>', 'issue as of this time instead of now')
  .option('--ttl <seconds>', 'validity', '120')
  .option('--site <id>', 'ticket for this site')
  .option('--entries <n>', 'passages the ticket allows')
  .action(async (options: import('../sim/issuerCommand.js').CodeOptions) => {
    const { issuerCode } = await import('../sim/issuerCommand.js');
    issuerCode(options);
  });

await runCli(program, process.argv.slice(2));
