import fc from 'fast-check';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTapBatch } from '../provisioning/collector/tapBatch.js';
import { SFI_LOG, parseLogRecord } from '../src/core/credentials/tunion/tunionFiles.js';
import type { Tap } from '../src/core/tap.js';
import type { GateMode } from '../src/core/settings.js';
import { TearingCard } from '../sim/tunion/tearingCard.js';
import { VirtualTunionCard } from '../sim/tunion/virtualTunionCard.js';
import { tunionGate, type TunionGate } from './support/tunionGate.js';

/** fsync on tmpfs costs nothing: thousands of taps in seconds, the same SQLite code path. */
const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

interface Pull {
  at: number;
  when: 'before' | 'after';
}

interface Step {
  card: number;
  /** Metro: which of the two gates (entry, exit). */
  gate: number;
  pull: Pull | null;
  gapMs: number;
}

const cardArb = fc.record({ balance: fc.integer({ min: 0, max: 3_000 }), algorithm: fc.constantFrom('3des' as const, 'sm4' as const), cardType: fc.constantFrom('01', '02', '03') });
const stepArb = fc.record({
  card: fc.nat({ max: 5 }),
  gate: fc.nat({ max: 1 }),
  // Pulled at any APDU of the read or the purchase (a bus tap is 8 card APDUs, a settling return up to 10).
  pull: fc.option(fc.record({ at: fc.integer({ min: 1, max: 11 }), when: fc.constantFrom('before' as const, 'after' as const) }), { freq: 2 }),
  gapMs: fc.oneof(fc.integer({ min: 0, max: 4_000 }), fc.integer({ min: 0, max: 900_000 })),
});

interface Tally {
  taps: number;
  pending: number;
  completed: number;
  settledUnpaid: number;
  unsettled: number;
}

async function run(mode: 'bus' | 'metro', profiles: { balance: number; algorithm: '3des' | 'sm4'; cardType: string }[], steps: Step[], tally: Tally): Promise<void> {
  const dir = mkdtempSync(join(SCRATCH, 'citygate-tearing-'));
  const modes: GateMode[] = mode === 'bus' ? ['bus'] : ['metro-entry', 'metro-exit'];
  const gates: TunionGate[] = [];
  try {
    for (const [i, m] of modes.entries()) {
      const dirOf = join(dir, String(i));
      rmSync(dirOf, { recursive: true, force: true });
      gates.push(await tunionGate(m, { dir: mkdtempSync(join(dir, `g${i}-`)), settings: { doubleTapMs: 3_000 }, tunion: m === 'metro-entry' ? { metro: { station: '0101', fares: {}, penaltyFare: 900, rules: [] } } : {} }));
    }
    const cards = profiles.map((p, i) => new VirtualTunionCard({ cardNumber: `3104000000000000${String(i).padStart(4, '0')}`, ...p }));
    const present = async (gate: TunionGate, card: VirtualTunionCard, pull: Pull | null): Promise<void> => {
      const seen = gate.outcomes.length;
      gate.board.reader.present(pull ? new TearingCard(card, pull.at, pull.when) : card);
      await gate.gate.settled();
      const outcome = gate.outcomes[seen];
      if (outcome?.type === 'tap' && outcome.tap.result === 'accepted') gate.board.passage.pass();
    };
    const advance = (ms: number): void => {
      for (const gate of gates) gate.board.clock.advance(ms);
    };
    for (const step of steps) {
      advance(step.gapMs);
      await present(gates[step.gate % gates.length]!, cards[step.card % cards.length]!, step.pull);
    }
    // Every card comes back once more to every gate, soon: what was left pending and can be settled is.
    for (const gate of gates) {
      for (const card of cards) {
        advance(4_000);
        await present(gate, card, null);
      }
    }
    const taps = gates.flatMap((g) => g.journal.taps());
    for (const [i, card] of cards.entries()) tally.unsettled += checkCard(card, profiles[i]!.balance, taps.filter((t) => t.subject === card.cardNumber));
    tally.taps += taps.length;
    tally.pending += taps.filter((t) => t.reason === 'purchase-pending').length;
    tally.completed += taps.filter((t) => t.purse?.state === 'completed').length;
    tally.settledUnpaid += taps.filter((t) => t.purse?.settles?.debited === false).length;
    // The upload is the journal: a collector reads it back whole, purse data included.
    for (const gate of gates) {
      const batch = parseTapBatch(Buffer.from(JSON.stringify({ gate: gate.settings.gateId, delivered: 0, taps: gate.journal.taps() })), gate.settings.gateId);
      expect(batch.taps).toEqual(JSON.parse(JSON.stringify(gate.journal.taps())));
    }
  } finally {
    for (const gate of gates) await gate.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The back office's view of one card: each debit the card made is claimed by
 * exactly one accepted tap (same ATC and TAC, same amount) or, failing that,
 * by a pending tap nothing settled (same ATC): never a passage unpaid, never
 * a payment twice. The balance falls by exactly the accepted fares and those
 * unsettled debits; the card's own log ends at its balance.
 */
function checkCard(card: VirtualTunionCard, initial: number, taps: Tap[]): number {
  const claimed = new Set<number>();
  const accepted = taps.filter((t) => t.result === 'accepted');
  for (const t of accepted) {
    const tx = t.purse?.transaction;
    expect(tx, `accepted tap ${t.seq} has its purchase`).toEqual(expect.objectContaining({ atc: expect.any(Number), tac: expect.any(String) }));
    const debit = card.debits.findIndex((d, i) => !claimed.has(i) && d.atc === tx!.atc && d.tac === tx!.tac);
    expect(debit, `accepted tap ${t.seq} (${t.purse!.state}, ATC ${tx!.atc}) is a debit on the card`).toBeGreaterThanOrEqual(0);
    expect(card.debits[debit]!.amount).toBe(t.fare);
    claimed.add(debit);
  }
  const settled = new Set(taps.flatMap((t) => (t.purse?.settles ? [t.purse.settles.tap] : [])));
  const unsettled = taps.filter((t) => t.reason === 'purchase-pending' && !settled.has(t.id));
  let unsettledPaid = 0;
  card.debits.forEach((d, i) => {
    if (claimed.has(i)) return;
    const pending = unsettled.find((t) => t.purse?.transaction?.atc === d.atc && t.purse.transaction.amount === d.amount);
    expect(pending?.purse?.transaction, `debit at ATC ${d.atc} of ${d.amount} fen has a tap: accepted, or pending and unsettled`).toMatchObject({ atc: d.atc, amount: d.amount });
    unsettledPaid += d.amount;
  });
  const fares = accepted.reduce((sum, t) => sum + (t.fare ?? 0), 0);
  expect(initial - card.balance).toBe(fares + unsettledPaid);
  if (card.debits.length > 0) expect(parseLogRecord(card.record(SFI_LOG, 1)!)?.balanceAfter).toBe(card.balance);
  return unsettled.length;
}

describe('T-Union purchases torn at every APDU (property)', () => {
  it.each(['bus', 'metro'] as const)('%s: each card pays exactly the fares of the passages granted, whatever APDU it is pulled at', async (mode) => {
    const tally: Tally = { taps: 0, pending: 0, completed: 0, settledUnpaid: 0, unsettled: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(cardArb, { minLength: 1, maxLength: 4 }), fc.array(stepArb, { minLength: 5, maxLength: 40, size: 'max' }), async (profiles, steps) => {
        await run(mode, profiles, steps, tally);
      }),
      { numRuns: 60 },
    );
    // The runs tore purchases every way there is: proved paid on return, proved unpaid, left to the back office.
    expect(tally.taps).toBeGreaterThan(1_000);
    expect(tally.pending).toBeGreaterThan(0);
    expect(tally.completed).toBeGreaterThan(0);
    expect(tally.settledUnpaid).toBeGreaterThan(0);
    process.stdout.write(`${JSON.stringify({ mode, ...tally })}\n`);
  }, 120_000);
});
