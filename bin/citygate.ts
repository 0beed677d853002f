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

await runCli(program, process.argv.slice(2));
