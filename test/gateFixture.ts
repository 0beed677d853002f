import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleGate, type AssembledGate } from '../src/app/assemble.js';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import type { Outcome } from '../src/core/gate.js';
import { silentLog } from '../src/core/log.js';
import { DEFAULT_TIMINGS, type GateSettings } from '../src/core/settings.js';
import { createSimBoard, type SimBoard } from '../sim/board.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';

export const START = Date.parse('2026-11-23T08:00:00Z');
export const START_SEC = START / 1000;

export interface GateFixture extends AssembledGate {
  board: SimBoard;
  issuer: TestIssuer;
  settings: GateSettings & { site: string };
  outcomes: Outcome[];
  dir: string;
  journalPath: string;
  denyList: MemoryDenyList;
  /** Build a second gate on the same journal file, as after a restart. */
  restart(): Promise<GateFixture>;
  dispose(): void;
}

export async function gateFixture(overrides: Partial<GateSettings> = {}, shared?: { dir: string; issuer: TestIssuer; board?: SimBoard }): Promise<GateFixture> {
  const dir = shared?.dir ?? mkdtempSync(join(tmpdir(), 'citygate-gate-'));
  const issuer = shared?.issuer ?? new TestIssuer('cq.yukuaima', 'ES256');
  const board = shared?.board ?? createSimBoard(START);
  const settings = {
    gateId: 'GATE-T1',
    site: 'site-a',
    zone: undefined,
    mode: 'metro-entry' as const,
    categories: CATEGORIES,
    fares: { default: 200, byCategory: { senior: 0 } },
    ...DEFAULT_TIMINGS,
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
    ...overrides,
  } as GateSettings & { site: string };
  const denyList = new MemoryDenyList();
  const journalPath = join(dir, 'journal.db');
  const parts = assembleGate({ board, settings, trust: TrustStore.fromDocument(trustListOf([issuer])), denyList, journalPath, log: silentLog });
  const outcomes: Outcome[] = [];
  parts.gate.onOutcome((o) => outcomes.push(o));
  await parts.gate.start();
  const fixture: GateFixture = {
    ...parts,
    board,
    issuer,
    settings,
    outcomes,
    dir,
    journalPath,
    denyList,
    async restart() {
      await parts.gate.stop();
      parts.journal.close();
      return gateFixture(overrides, { dir, issuer, board: createSimBoard(board.clock.now()) });
    },
    dispose() {
      try {
        parts.journal.close();
      } catch {
        // already closed by restart()
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

export function nowSec(board: SimBoard): number {
  return Math.floor(board.clock.now() / 1000);
}
