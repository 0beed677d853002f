import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleGate, type AssembledGate } from '../../src/app/assemble.js';
import { CATEGORIES } from '../../src/core/credentials/credential.js';
import { TrustStore } from '../../src/core/credentials/trustList.js';
import type { TunionSettings } from '../../src/core/credentials/tunion/tunionSettings.js';
import { MemoryDenyList } from '../../src/core/denyList.js';
import type { Outcome } from '../../src/core/gate.js';
import { silentLog } from '../../src/core/log.js';
import { DEFAULT_TIMINGS, type GateMode, type GateSettings } from '../../src/core/settings.js';
import { createSimBoard, type SimBoard } from '../../sim/board.js';
import { TestIssuer, trustListOf } from '../../sim/issuer.js';
import { VirtualPsam } from '../../sim/tunion/virtualPsam.js';
import { VirtualSamSlot } from '../../sim/tunion/virtualSamSlot.js';

export const TUNION_START = Date.parse('2026-11-23T01:00:00Z');

/** Test T-Union settings: type 02 is a student card, 03 a senior's; metro fares from two stations to 0103. */
export function tunionSettings(overrides: Partial<TunionSettings> = {}): TunionSettings {
  return {
    cardTypes: { '02': 'student', '03': 'senior' },
    defaultCategory: 'adult',
    keyIndex: 1,
    city: '4000',
    pendingWindowMin: 10,
    metro: { station: '0103', fares: { '0101': 400, '0102': 300, '0103': 200 }, penaltyFare: 900, rules: [{ category: 'student', percent: 50 }] },
    ...overrides,
  };
}

export interface TunionGate extends AssembledGate {
  board: SimBoard;
  psam: VirtualPsam;
  slot: VirtualSamSlot;
  outcomes: Outcome[];
  denyList: MemoryDenyList;
  journalPath: string;
  settings: GateSettings & { site: string };
  /** The same gate again on the same journal (a restart, or the gate killed). */
  restart(options?: { close?: boolean }): Promise<TunionGate>;
  dispose(): Promise<void>;
}

/** A gate on the simulated board with a virtual PSAM in its SAM slot, taking T-Union cards (and CG cards). */
export async function tunionGate(mode: GateMode, options: { tunion?: Partial<TunionSettings>; settings?: Partial<GateSettings>; psam?: VirtualPsam | null; dir?: string; startMs?: number; denyList?: MemoryDenyList } = {}): Promise<TunionGate> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'citygate-tunion-'));
  const board = createSimBoard(options.startMs ?? TUNION_START);
  const psam = options.psam === null ? undefined : (options.psam ?? new VirtualPsam());
  const slot = new VirtualSamSlot(psam);
  board.sam = slot;
  const settings = {
    gateId: 'GATE-TU1',
    site: 'site-tu',
    zone: undefined,
    mode,
    categories: CATEGORIES,
    fares: undefined,
    ...DEFAULT_TIMINGS,
    doubleTapMs: 0,
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
    cards: { applications: ['tunion', 'cg'] as const, deadlineMs: 1_000 },
    tunion: tunionSettings(options.tunion),
    bus: { operator: 'cq-bus', route: '818', stop: undefined, fares: { default: 200, byRoute: { '818': 200 }, rules: [{ category: 'senior', fare: 0 }, { category: 'student', percent: 50 }] }, transfer: undefined, stops: [], stopRadiusM: 50, stopHysteresisM: 15 },
    metro: { station: 'S-0103', passbackMin: 30, fares: undefined },
    ...options.settings,
  } as GateSettings & { site: string };
  const denyList = options.denyList ?? new MemoryDenyList();
  const journalPath = join(dir, 'journal.db');
  const issuer = new TestIssuer('cq.yukuaima', 'ES256');
  const parts = assembleGate({ board, settings, trust: TrustStore.fromDocument(trustListOf([issuer])), denyList, journalPath, log: silentLog });
  const outcomes: Outcome[] = [];
  parts.gate.onOutcome((o) => outcomes.push(o));
  await parts.gate.start();
  const gate: TunionGate = {
    ...parts,
    board,
    psam: psam!,
    slot,
    outcomes,
    denyList,
    journalPath,
    settings,
    async restart(restartOptions = {}) {
      if (restartOptions.close !== false) {
        await parts.gate.stop();
        parts.journal.close();
      }
      return tunionGate(mode, { ...options, dir, psam: psam ?? null, startMs: board.clock.now(), denyList });
    },
    async dispose() {
      await parts.gate.stop().catch(() => undefined);
      try {
        parts.journal.close();
      } catch {
        // closed by a restart
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return gate;
}
