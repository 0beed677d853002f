import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PcscCardReader } from '../hal/pcsc/pcscCardReader.js';
import { PcscSamSlot } from '../hal/pcsc/pcscSamSlot.js';
import { assembleGate, type AssembledGate } from '../src/app/assemble.js';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import type { Outcome } from '../src/core/gate.js';
import { silentLog } from '../src/core/log.js';
import { DEFAULT_TIMINGS, type GateSettings } from '../src/core/settings.js';
import type { Tap } from '../src/core/tap.js';
import { createSimBoard, type SimBoard } from '../sim/board.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import type { PcscdProcess } from '../sim/pcscdProcess.js';
import { VirtualPsam } from '../sim/tunion/virtualPsam.js';
import { VirtualTunionCard } from '../sim/tunion/virtualTunionCard.js';
import { VpcdCard, type VpcdInsertion } from '../sim/vpcdCard.js';
import { startPrivatePcscd } from './support/pcscd.js';
import { tunionSettings } from './support/tunionGate.js';
import { waitFor } from './support/waitFor.js';

/*
 * A bus validator on the real PC/SC stack: the card on vpcd slot 0, the PSAM
 * on slot 1, both behind a private pcscd (pcsclite -> pcscd -> vpcd ->
 * sim/tunion). Purchases, and purchases torn at DEBIT both ways: the command
 * never reached the card, or the card paid and its answer was lost.
 */

let pcscd: PcscdProcess;
let cardSlot: VpcdCard;
let samSlot: VpcdCard;
let dir: string;
let parts: AssembledGate;
let board: SimBoard;
const outcomes: Outcome[] = [];
const psam = new VirtualPsam();

beforeAll(async () => {
  pcscd = await startPrivatePcscd();
  cardSlot = new VpcdCard(pcscd.ports[0]!);
  samSlot = new VpcdCard(pcscd.ports[1]!);
  await samSlot.insert(psam);
  dir = mkdtempSync(join(tmpdir(), 'citygate-tunion-pcsc-'));
  board = createSimBoard(Date.now());
  const [cardReader, samReader] = pcscd.readerNames as [string, string];
  board.readers = [new PcscCardReader({ socket: pcscd.socketPath, include: new RegExp(`^${cardReader}$`), exclude: /$^/ })];
  board.sam = new PcscSamSlot({ socket: pcscd.socketPath, reader: new RegExp(`^${samReader}$`) });
  const issuer = new TestIssuer('cq.yukuaima', 'ES256');
  const settings = {
    gateId: 'GATE-TU-PCSC',
    site: 'site-tu',
    zone: undefined,
    mode: 'bus' as const,
    categories: CATEGORIES,
    fares: undefined,
    ...DEFAULT_TIMINGS,
    // vpcd takes about 44 ms an exchange; a purchase is a dozen with the PSAM's.
    apduTimeoutMs: 1_500,
    doubleTapMs: 0,
    cardsWhenClockUntrusted: true,
    timezone: 'Asia/Shanghai',
    cards: { applications: ['tunion', 'cg'] as const, deadlineMs: 8_000 },
    tunion: tunionSettings(),
    bus: { operator: 'cq-bus', route: '818', stop: undefined, fares: { default: 200, byRoute: {}, rules: [] }, transfer: undefined, stops: [], stopRadiusM: 50, stopHysteresisM: 15 },
  } as GateSettings & { site: string };
  parts = assembleGate({ board, settings, trust: TrustStore.fromDocument(trustListOf([issuer])), denyList: new MemoryDenyList(), journalPath: join(dir, 'journal.db'), log: silentLog });
  parts.gate.onOutcome((o) => outcomes.push(o));
  await parts.gate.start();
  await waitFor(() => parts.gate.deviceHealth().psam?.healthy === true, 'the PSAM on vpcd slot 1 read');
}, 60_000);

afterAll(async () => {
  await parts?.gate.stop();
  parts?.journal.close();
  await cardSlot?.remove();
  await samSlot?.remove();
  await pcscd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function tap(card: VirtualTunionCard, insertion: VpcdInsertion = {}): Promise<Tap> {
  const seen = outcomes.length;
  await cardSlot.insert(card, insertion);
  await waitFor(() => outcomes.length > seen, 'the tap', 20_000);
  await cardSlot.remove();
  const outcome = outcomes[seen]!;
  if (outcome.type !== 'tap') throw new Error(`expected a tap, got ${outcome.type}`);
  if (outcome.tap.result === 'accepted') board.passage.pass();
  return outcome.tap;
}

describe('T-Union purchases through pcscd and vpcd, card and PSAM in two slots', () => {
  it('reads the PSAM terminal id at start and debits a card', async () => {
    expect(parts.gate.deviceHealth().psam?.detail).toContain('000000012345');
    const card = new VirtualTunionCard({ cardNumber: '31040000000000000101', balance: 1_000 });
    const t = await tap(card);
    expect(t).toMatchObject({ kind: 'tunion', result: 'accepted', fare: 200, purse: { state: 'debited', transaction: { tac: card.debits[0]!.tac, mac2Verified: true } } });
    expect(card.balance).toBe(800);
  });

  it('a DEBIT that never reached the card is pending, then settled unpaid and charged once on return', async () => {
    const card = new VirtualTunionCard({ cardNumber: '31040000000000000102', balance: 1_000, algorithm: 'sm4' });
    // SELECT, file 15, balance, record 1A, INITIALIZE, UPDATE 1E: the card leaves as DEBIT arrives.
    const torn = await tap(card, { removeAfterApdus: 6 });
    expect(torn).toMatchObject({ kind: 'tunion', result: 'refused', reason: 'purchase-pending', purse: { state: 'pending' } });
    expect(card.balance).toBe(1_000);
    const back = await tap(card);
    expect(back).toMatchObject({ result: 'accepted', fare: 200, purse: { state: 'debited', settles: { tap: torn.id, debited: false } } });
    expect(card.balance).toBe(800);
    expect(card.debits).toHaveLength(1);
  });

  it('a DEBIT the card carried out but whose answer was lost opens on return with no second debit', async () => {
    const card = new VirtualTunionCard({ cardNumber: '31040000000000000103', balance: 1_000 });
    const torn = await tap(card, { loseAnswerOf: 7 });
    expect(torn).toMatchObject({ result: 'refused', reason: 'purchase-pending' });
    expect(card.balance).toBe(800);
    const back = await tap(card);
    expect(back).toMatchObject({ result: 'accepted', fare: 200, purse: { state: 'completed', settles: { tap: torn.id, debited: true }, transaction: { tac: card.debits[0]!.tac } } });
    expect(card.balance).toBe(800);
    expect(card.debits).toHaveLength(1);
  });

  it('a PSAM taken out of its slot refuses purse cards, and is used again once back', async () => {
    await samSlot.remove();
    await waitFor(() => parts.gate.deviceHealth().psam?.healthy === false, 'the PSAM reported gone');
    const card = new VirtualTunionCard({ cardNumber: '31040000000000000104', balance: 1_000 });
    expect(await tap(card)).toMatchObject({ result: 'refused', reason: 'psam-unavailable' });
    await samSlot.insert(psam);
    await waitFor(() => parts.gate.deviceHealth().psam?.healthy === true, 'the PSAM back');
    expect(await tap(card)).toMatchObject({ result: 'accepted', fare: 200 });
  });
});
