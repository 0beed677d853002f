import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/app/settingsSchema.js';
import { simLog } from '../simOutput.js';
import { LaneSession } from './laneSession.js';
import { DEFAULT_UI_PORT, startUiServer, type UiServer } from './uiServer.js';

export interface SimUiOptions {
  scenario?: string;
  journal?: string;
  append?: boolean;
  pcsc?: boolean;
  port?: string;
}

function portOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_UI_PORT;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) throw new InputError(`--port: a port number from 0 to 65535 (0: any free port), not ${JSON.stringify(text)}`);
  return port;
}

/** Resolves with the signal that asks the sim to stop. */
function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * `citygate sim --ui`: the scenario's gate, live, behind a page on loopback
 * (docs/scenarios.md). Taps print on stdout as with `citygate sim`; the
 * page's address on stderr. Runs until SIGINT or SIGTERM, then stops the
 * gate and removes the lanes' journals.
 */
export async function simUiCommand(options: SimUiOptions): Promise<number> {
  if (options.pcsc) throw new InputError('--ui presents the passengers in-process, on the simulated reader; it takes no --pcsc');
  if (options.journal !== undefined || options.append) throw new InputError('--ui keeps one journal per lane in a temporary directory (the page names each file); it takes no --journal or --append');
  const port = portOf(options.port);
  const log = simLog();
  const dir = mkdtempSync(join(tmpdir(), 'citygate-sim-ui-'));
  const stopped = untilStopped();
  // Taps go to stdout as with `citygate sim`; a reader that went away (`| head`) leaves the page running.
  let stdoutOpen = true;
  process.stdout.on('error', () => (stdoutOpen = false));
  let session: LaneSession | undefined;
  let server: UiServer | undefined;
  try {
    // The port first: one in use is said at once, not after the lane is built.
    server = await startUiServer({ port, log });
    session = await LaneSession.start({ dir, log, scenarioFile: options.scenario, out: (line) => stdoutOpen && process.stdout.write(`${line}\n`) });
    server.serve(session);
    process.stderr.write(`citygate sim: the lane (${session.setup().scenario.name}) is at ${server.url} — Ctrl-C stops it\n`);
    await stopped;
    return 0;
  } finally {
    await server?.close();
    await session?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
