import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/core/journal.js';
import { cardTarget } from './cardTarget.js';
import { codeTarget } from './codeTarget.js';
import { tapBatchTarget } from './collectorTarget.js';
import { base45Target, cborTarget, claimsTarget, coseTarget } from './credentialTargets.js';
import { pngTarget, rtcTarget } from './deviceTargets.js';
import { emvTlvTarget } from './emvTlvTarget.js';
import { transportTarget } from './transportTarget.js';
import { configFileTarget, configTarget, fileSeeds, journalImportTarget, scenarioFileTarget, scenarioTarget, trustFileTarget } from './fileTargets.js';
import { commandTarget, denyListTarget, trustUpdateTarget } from './fleetTargets.js';
import { siteUsedTarget, tapAckTarget } from './gateTopicTargets.js';
import { busConsoleTarget, nmeaTarget, scannerLineTarget } from './lineTargets.js';
import type { FuzzTarget } from './target.js';
import { GATE_ID, NOW_MS, SITE } from './world.js';

export interface TargetSuite {
  targets: FuzzTarget[];
  close(): Promise<void>;
}

/** Taps in the fuzz journal, so that an ack has something to acknowledge. */
const JOURNAL_TAPS = 40;

/** tmpfs where there is one: the journal syncs every write, and the fuzzer writes a lot. */
function scratchBase(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

function fuzzJournal(dir: string): Journal {
  const journal = Journal.open(join(dir, 'journal.db'), GATE_ID, SITE);
  for (let i = 0; i < JOURNAL_TAPS; i++) {
    journal.append({
      at: new Date(NOW_MS + i * 1000).toISOString(),
      mode: 'venue',
      kind: 'code',
      issuer: 'cq.yukuaima',
      subject: `acct-${i}`,
      category: 'adult',
      result: 'accepted',
      reason: 'ok',
      fare: 200,
      product: null,
      latencyMs: 5,
      place: null,
      emv: null,
    });
  }
  return journal;
}

/** Every parser the gate, the collector and the tools apply to outside input, with the scratch files some need. */
export async function openTargets(): Promise<TargetSuite> {
  const dir = mkdtempSync(join(scratchBase(), 'citygate-fuzz-'));
  let journal: Journal | undefined;
  try {
    journal = fuzzJournal(dir);
    const seeds = fileSeeds();
    const targets: FuzzTarget[] = [
      codeTarget(),
      base45Target(),
      cborTarget(),
      coseTarget(),
      claimsTarget(),
      cardTarget(),
      emvTlvTarget(),
      transportTarget(),
      denyListTarget(),
      commandTarget(),
      trustUpdateTarget(),
      tapAckTarget(journal),
      siteUsedTarget(journal),
      tapBatchTarget(),
      configTarget(seeds),
      configFileTarget(seeds, dir),
      scenarioTarget(seeds),
      scenarioFileTarget(seeds, dir),
      trustFileTarget(),
      journalImportTarget(dir),
      nmeaTarget(),
      busConsoleTarget(),
      scannerLineTarget(),
      pngTarget(),
      rtcTarget(),
    ] as FuzzTarget[];
    const opened = journal;
    return {
      targets,
      close: async () => {
        opened.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    journal?.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
