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
  .option('--journal <file>', 'keep the journal in this SQLite file (default: a temporary file); an existing file is refused without --append')
  .option('--append', 'with --journal: continue an existing journal, this run\'s taps after its own')
  .option('--pcsc', 'present cards through a private pcscd with the vsmartcard-vpcd virtual reader (its own passengers)')
  .option('--ui', 'serve the lane as a page on 127.0.0.1: present its passengers by clicking, watch the gate and the journal')
  .option('--port <port>', "the page's port with --ui (default 8420; 0: any free port)")
  .action(async (options: { scenario?: string; journal?: string; append?: boolean; pcsc?: boolean; ui?: boolean; port?: string }) => {
    if (options.ui) {
      const { simUiCommand } = await import('../sim/ui/simUiCommand.js');
      process.exitCode = await simUiCommand(options);
      return;
    }
    if (options.port !== undefined) throw new InputError("--port is the page's port: it goes with --ui");
    if (options.append && options.journal === undefined) throw new InputError('--append continues the journal named by --journal: it goes with --journal');
    if (options.pcsc) {
      if (options.scenario) throw new InputError('--pcsc runs its own passengers through the real PC/SC stack; it takes no --scenario');
      const { pcscSimCommand } = await import('../sim/pcscSim.js');
      process.exitCode = await pcscSimCommand({ journal: options.journal, append: options.append });
      return;
    }
    const { simCommand } = await import('../sim/simCommand.js');
    process.exitCode = await simCommand(options);
  });

const issuer = program.command('issuer').description('test issuers for development: keys, trust list, codes (never for a real issuer)');
issuer
  .command('init')
  .description('make a key per issuer and a trust list trusting them, in DIR; and bank-card test CAs (RSA F1, SM2 F2) with DIR/capk.json')
  .requiredOption('--dir <dir>', 'where to write the keys and trust.json')
  .option('--issuer <spec...>', 'issuers as ID:ALG (ALG is ES256 or EdDSA)', ['cq.yukuaima:ES256', 'sc.tianfu:EdDSA'])
  .option('--force', 'replace the keys, trust list and test CAs already in DIR')
  .action(async (options: { dir: string; issuer: string[]; force?: boolean }) => {
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
issuer
  .command('bankcard')
  .description('personalise a simulated UnionPay QuickPass card under a test CA made by init; prints its JSON (loadBankCard reads it)')
  .requiredOption('--dir <dir>', 'the directory given to init')
  .requiredOption('--pan <digits>', 'application PAN; its first six digits are the issuer BIN')
  .option('--psn <nn>', 'PAN sequence number', '01')
  .option('--algorithm <alg>', 'RSA or SM2 (the CA it is made under)', 'RSA')
  .option('--expiry <yymmdd>', 'application expiry date (default 491231)')
  .option('--out <file>', 'write the card here instead of stdout')
  .action(async (options: import('../sim/emv/bankCardCommand.js').BankCardCommandOptions) => {
    const { issuerBankCard } = await import('../sim/emv/bankCardCommand.js');
    issuerBankCard(options);
  });
const transport = issuer.command('transport').description('national transport QR codes (交通一卡通二维码): a test root CA, issuers, codes of both versions');
transport
  .command('init')
  .description("make a root CA and issuers it certifies in DIR, and put them in DIR/trust.json's transport object")
  .requiredOption('--dir <dir>', 'where to write the keys and trust.json (an existing trust.json keeps its issuers)')
  .option('--index <n>', 'root CA index (0 to 255)', '1')
  .option('--issuer <id...>', 'issuer ids, 8 hex digits each', ['C0DE0001'])
  .option('--expiry <mmyy>', 'the issuer certificates are valid through this month', '1249')
  .action(async (options: import('../sim/transport/transportCommand.js').TransportInitOptions) => {
    const { transportInit } = await import('../sim/transport/transportCommand.js');
    transportInit(options);
  });
transport
  .command('code')
  .description('print codes of one rider of an issuer saved with init, one per line (for citygate check --hex)')
  .requiredOption('--dir <dir>', 'the directory given to init')
  .option('--issuer <id>', 'issuer id', 'C0DE0001')
  .requiredOption('--account <hex>', 'the account number, 20 hex digits')
  .option('--version <80|81>', '80 interoperable or 81 local', '80')
  .option('--type <hex>', 'account type: 01 ordinary, 02 student, 03 senior', '01')
  .option('--limit <fen>', 'single-trip limit', '2000')
  .option('--at <iso-8601>', 'generation time of the first code instead of now')
  .option('--valid <seconds>', 'how long a code is valid after its generation', '60')
  .option('--authorised <seconds>', 'the account is authorised until this long after --at (negative: expired)', '86400')
  .option('--count <n>', 'this many codes, a second apart', '1')
  .option('--format <format>', 'hex or base64', 'hex')
  .action(async (options: import('../sim/transport/transportCommand.js').TransportCodeOptions) => {
    const { transportCode } = await import('../sim/transport/transportCommand.js');
    transportCode(options);
  });

const card = program.command('card').description('card tools: read a card as the gate does; a bank card\'s token for deny lists');
card
  .command('read')
  .description('wait for a card on a PC/SC reader, read it with the gate\'s own card flow and print the verdict as JSON (exit 0 accepted, 1 refused, 2 usage, file or reader error)')
  .option('--reader <name>', 'only the reader whose name contains this (default: the first card on any reader)')
  .option('--config <file>', 'the gate\'s config: its card applications, trust list, CA keys and token key')
  .option('--trust <file>', 'trust list for CG cards (DESIGN.md §2)')
  .option('--capk <file>', 'CA public keys for bank cards (DESIGN.md §5); alone it needs no config')
  .option('--wait <seconds>', 'how long to wait for a card', '10')
  .option('--at <iso-8601>', 'read as of this time instead of now (certificate and card expiry)')
  .option('--deadline <ms>', 'the whole card flow\'s deadline (default: the config\'s gate.cards.deadlineMs, else 1000)')
  .action(async (options: import('../src/app/cardReadCommand.js').CardReadOptions) => {
    const { cardReadCommand } = await import('../src/app/cardReadCommand.js');
    const report = await cardReadCommand(options);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    // pcsclite may keep a native handle open after the reader stopped: the verdict is out, so leave now.
    process.exit(report.result === 'accepted' ? 0 : 1);
  });
card
  .command('token')
  .description('print the token that stands for a bank card (PAN and PAN sequence number) in taps and deny lists')
  .requiredOption('--key <file>', 'the fleet\'s card token key (64 hex digits)')
  .requiredOption('--pan <digits>', 'the card number, 12 to 19 digits')
  .option('--psn <nn>', 'PAN sequence number (5F34)', '00')
  .action(async (options: { key: string; pan: string; psn: string }) => {
    const { cardTokenCommand } = await import('../src/app/cardTokenCommand.js');
    process.stdout.write(`${cardTokenCommand(options)}\n`);
  });

const camera = program.command('camera').description('camera tools: decode still images as the camera does; try the live camera');
camera
  .command('decode')
  .description('decode still images (PNG, JPEG) with the camera path\'s own decoder; one JSON line per file: {"file","text"}, {"file","hex"} for a binary payload, or {"file","text":null} (exit 0, 2 when a file cannot be read)')
  .argument('<file...>', 'image files')
  .action(async (files: string[]) => {
    const { cameraDecodeCommand } = await import('../src/app/cameraDecodeCommand.js');
    process.exitCode = await cameraDecodeCommand(files);
  });
camera
  .command('test')
  .description('a few seconds of the live camera through the gate\'s driver and decoder: frame rate, decode time, codes read, the last frame saved (stop the service first; exit 0 frames came, 1 none, 2 usage)')
  .option('--config <file>', 'the gate\'s config: its first camera (default: the v4l2 driver\'s defaults)')
  .option('--device <path>', 'the camera device, instead of the config\'s (default /dev/video0)')
  .option('--seconds <n>', 'how long to watch', '5')
  .option('--save <file>', 'where to save the last frame (PNG)', 'citygate-camera.png')
  .option('--json', 'the report as one JSON object')
  .action(async (options: import('../src/app/cameraTestCommand.js').CameraTestOptions) => {
    const { cameraTestCommand } = await import('../src/app/cameraTestCommand.js');
    const { status, report, text } = await cameraTestCommand(options);
    process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : text);
    process.exitCode = status;
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
  .description('check everything the gate needs, devices included (stop the service first); exit 0 pass (warnings aside), 1 fail, 2 config or a device entry wrong')
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
registerProvisionCommands(program, driverRegistry);
registerJournalCommands(program);
registerStatusCommand(program, driverRegistry);

// Fleet ops: the fleet-ops key, signed deny lists, trust lists and commands, and the reference collector.
registerFleetCommands(program);
registerCollectorCommand(program);

await runCli(program, process.argv.slice(2));
