import { afterEach, describe, expect, it } from 'vitest';
import type { Outcome } from '../src/core/gate.js';
import type { Tap } from '../src/core/tap.js';
import { SFI_LOG, SFI_TRIP, parseLogRecord, parseMetroRecord } from '../src/core/credentials/tunion/tunionFiles.js';
import { TearingCard } from '../sim/tunion/tearingCard.js';
import { VirtualTunionCard } from '../sim/tunion/virtualTunionCard.js';
import { tunionGate, type TunionGate } from './support/tunionGate.js';

let gates: TunionGate[] = [];
afterEach(async () => {
  for (const gate of gates) await gate.dispose();
  gates = [];
});

async function open(...args: Parameters<typeof tunionGate>): Promise<TunionGate> {
  const gate = await tunionGate(...args);
  gates.push(gate);
  return gate;
}

/** One tap of `card`; an accepted passenger walks through, after `screen` has read the display. */
async function tap(gate: TunionGate, card: VirtualTunionCard, screen?: (lines: string[]) => void): Promise<Tap> {
  const seen = gate.outcomes.length;
  gate.board.reader.present(card);
  await gate.gate.settled();
  const outcome = gate.outcomes[seen] as Outcome;
  if (outcome.type !== 'tap') throw new Error(`expected a tap, got ${outcome.type}`);
  screen?.(gate.board.display.lines.map((l) => l.en));
  if (outcome.tap.result === 'accepted') gate.board.passage.pass();
  return outcome.tap;
}

const card = (n: number, extra: Partial<ConstructorParameters<typeof VirtualTunionCard>[0]> = {}): VirtualTunionCard =>
  new VirtualTunionCard({ cardNumber: `310400000000000${String(n).padStart(5, '0')}`, balance: 1_000, ...extra });

describe('T-Union purse cards at a bus validator', () => {
  it('debits the route fare through the PSAM and journals what clearing needs', async () => {
    const gate = await open('bus');
    const adult = card(1);
    let screen: string[] = [];
    const t = await tap(gate, adult, (lines) => (screen = lines));
    expect(t).toMatchObject({ kind: 'tunion', result: 'accepted', reason: 'ok', fare: 200, issuer: 'tunion', subject: adult.cardNumber, category: 'adult' });
    expect(adult.balance).toBe(800);
    expect(adult.debits).toHaveLength(1);
    expect(t.purse).toMatchObject({ state: 'debited', card: adult.cardNumber, trip: 'bus', transaction: { amount: 200, atc: 0, balanceBefore: 1_000, balanceAfter: 800, terminalId: '000000012345', tac: adult.debits[0]!.tac, mac2Verified: true, algorithm: '3des' } });
    expect(gate.journal.taps().at(-1)?.purse).toEqual(t.purse);
    expect(screen).toEqual(['Please pass', 'Adult', 'Fare ¥2.00', 'Balance ¥8.00']);
    const log = parseLogRecord(adult.record(SFI_LOG, 1)!);
    expect(log).toMatchObject({ type: 0x06, amount: 200, balanceAfter: 800, industry: 0x02 });
  });

  it('takes SM4 cards, charges by the card type category and refuses a card short of the fare', async () => {
    const gate = await open('bus');
    const student = card(2, { algorithm: 'sm4', cardType: '02' });
    expect(await tap(gate, student)).toMatchObject({ result: 'accepted', fare: 100, category: 'student', purse: { transaction: { algorithm: 'sm4', mac2Verified: true } } });
    expect(student.balance).toBe(900);
    const poor = card(3, { balance: 150 });
    const refused = await tap(gate, poor);
    expect(refused).toMatchObject({ kind: 'tunion', result: 'refused', reason: 'insufficient-balance', subject: poor.cardNumber });
    expect(poor.balance).toBe(150);
    expect(gate.board.display.lines.map((l) => l.en)).toContain('Balance ¥1.50');
  });

  it('refuses a clone (MAC1 rejected by the card), an expired card and a deny-listed card without moving money', async () => {
    const gate = await open('bus');
    const clone = card(4, { clone: true });
    expect(await tap(gate, clone)).toMatchObject({ result: 'refused', reason: 'card-auth-failed' });
    expect(clone.balance).toBe(1_000);
    expect(await tap(gate, card(5, { validUntil: '20251231' }))).toMatchObject({ result: 'refused', reason: 'expired' });
    const denied = card(6);
    gate.denyList.add('tunion', denied.cardNumber);
    expect(await tap(gate, denied)).toMatchObject({ result: 'refused', reason: 'deny-listed' });
    expect(denied.balance).toBe(1_000);
  });

  it('without a working PSAM refuses purse cards with psam-unavailable and says so in its health', async () => {
    const gate = await open('bus', { psam: null });
    const c = card(7);
    expect(await tap(gate, c)).toMatchObject({ kind: 'tunion', result: 'refused', reason: 'psam-unavailable' });
    expect(gate.gate.deviceHealth().psam?.healthy).toBe(false);
    expect(c.balance).toBe(1_000);
  });
});

describe('T-Union double taps and tears', () => {
  it('the same card again within the double-tap window is the paid tap again, never a second debit', async () => {
    const gate = await open('bus', { settings: { doubleTapMs: 3_000 } });
    const c = card(10);
    await tap(gate, c);
    gate.board.reader.present(c);
    await gate.gate.settled();
    expect(gate.outcomes.at(-1)?.type).toBe('repeat');
    expect(c.balance).toBe(800);
  });

  it('a card torn at DEBIT and back at once is settled, not taken for a double tap of its pending tap', async () => {
    const gate = await open('bus', { settings: { doubleTapMs: 3_000 } });
    const c = card(11);
    const seen = gate.outcomes.length;
    // SELECT, file 15, balance, 1A, INITIALIZE, UPDATE 1E, then DEBIT: carried out, its answer lost.
    gate.board.reader.present(new TearingCard(c, 7, 'after'));
    await gate.gate.settled();
    const pending = gate.outcomes[seen];
    expect(pending?.type === 'tap' && pending.tap.reason).toBe('purchase-pending');
    expect(c.balance).toBe(800);
    const back = await tap(gate, c);
    expect(back).toMatchObject({ result: 'accepted', fare: 200, purse: { state: 'completed' } });
    expect(c.balance).toBe(800);
  });
});

describe('T-Union purse cards at metro gates', () => {
  it('writes the entry with no charge, prices the exit from the entry station and refuses passback from the card', async () => {
    const entry = await open('metro-entry', { tunion: { metro: { station: '0101', fares: {}, penaltyFare: 900, rules: [] } } });
    const c = card(8, { cardType: '02' });
    expect(await tap(entry, c)).toMatchObject({ result: 'accepted', fare: 0, purse: { trip: 'entry', transaction: { amount: 0 } } });
    expect(c.balance).toBe(1_000);
    expect(parseMetroRecord(c.record(SFI_TRIP, 1)!).record).toMatchObject({ status: 'entered', station: '0101', city: '4000' });
    expect(await tap(entry, c)).toMatchObject({ result: 'refused', reason: 'passback' });
    const exit = await open('metro-exit');
    // Student: half of the 4.00 fare from 0101.
    expect(await tap(exit, c)).toMatchObject({ result: 'accepted', fare: 200, purse: { trip: 'exit', entry: { station: '0101', city: '4000' } } });
    expect(c.balance).toBe(800);
    expect(await tap(exit, c)).toMatchObject({ result: 'refused', reason: 'passback' });
  });

  it('charges the penalty fare at exit for a card with no entry', async () => {
    const exit = await open('metro-exit');
    const c = card(9);
    expect(await tap(exit, c)).toMatchObject({ result: 'accepted', fare: 900, purse: { entry: 'penalty' } });
    expect(c.balance).toBe(100);
  });
});
