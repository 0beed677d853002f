import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { checkCode, codeToCheck, type CheckOptions } from './checkCommand.js';
import { DeviceStartError } from './boardBuilder.js';
import { InputError } from './settingsSchema.js';

/** Exit statuses every citygate command keeps to. */
export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

function readCodeText(text: string | undefined): string | undefined {
  // "-" reads the code from standard input, as a scan module pipes it; only the line ending is dropped.
  return text === '-' ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : text;
}

export function buildProgram(): Command {
  const program = new Command('citygate')
    .description('Gate controller for the city card and city code')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('check')
    .description('verify one code offline (a CG1 city code, or a national transport QR code given with --hex/--base64) and print the verdict as JSON (exit 0 accepted, 1 refused, 2 usage or file error)')
    .requiredOption('--trust <file>', 'trust list (JSON, DESIGN.md §2)')
    .option('--at <iso-8601>', 'check as of this time instead of now')
    .option('--gate <id>', 'gate id (default "check")')
    .option('--site <id>', 'site of the gate; tickets for other sites are refused')
    .option('--zone <id>', 'zone of the gate; tickets for other zones are refused')
    .option('--deny <file>', 'deny list: JSON {"issuer": ["subject", "cti:<hex>", ...]}')
    .addOption(new Option('--skew <seconds>', 'clock skew tolerance').default(undefined, '30'))
    .addOption(new Option('--freshness <seconds>', 'freshness window of offline codes').default(undefined, '60'))
    .option('--hex <hex>', 'a binary QR payload in hex instead of the text (- reads it from standard input)')
    .option('--base64 <b64>', 'a binary QR payload in base64 instead of the text (- reads it from standard input)')
    .argument('[text]', 'the text of the QR code, or - to read it from standard input')
    .action((text: string | undefined, options: CheckOptions) => {
      const code = codeToCheck(readCodeText(text), { hex: readCodeText(options.hex), base64: readCodeText(options.base64) });
      const result = checkCode(code, options);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exitCode = result.result === 'accepted' ? EXIT.ok : EXIT.refused;
    });

  return program;
}

/** Run the program; usage and input errors print one line for the technician and exit 2. */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (error instanceof InputError || error instanceof DeviceStartError) {
      process.stderr.write(`citygate: ${error.message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    // Exit 1 means "refused"; a crash must not look like a verdict.
    process.stderr.write(`citygate: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = EXIT.usage;
  }
}
