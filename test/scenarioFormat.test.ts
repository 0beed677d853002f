import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, parseWith } from '../src/app/settingsSchema.js';
import { silentLog } from '../src/core/log.js';
import { scenarioSchema } from '../sim/scenario.js';
import { runScenario } from '../sim/scenarioRunner.js';
import type { Tap } from '../src/core/tap.js';

const dir = mkdtempSync(join(tmpdir(), 'citygate-scenario-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let runs = 0;

const VENUE = { id: 'G-V1', site: 'site-v', mode: 'venue' };
const BUS = { id: 'G-B1', site: 'cq-bus', mode: 'bus', bus: { operator: 'cq-bus', route: '261', stops: [{ id: 'a', name: 'A', lat: 29.5, lon: 106.5 }] } };
const ISSUERS = [{ id: 'cq.yukuaima' }];

function problems(document: Record<string, unknown>): string {
  try {
    parseWith(scenarioSchema, { name: 'x', issuers: ISSUERS, ...document }, 'f.json');
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('the scenario was accepted');
}

async function play(document: Record<string, unknown>) {
  const scenario = parseWith(scenarioSchema, { name: 'x', issuers: ISSUERS, ...document }, 'f.json');
  return runScenario(scenario, { journalPath: join(dir, `run-${++runs}.db`), log: silentLog });
}

/** The barrier closed by the gate's open timeout (8 s), not by a passage; simulated time also moves with the real processing time. */
function expectOpenTimeout(ms: number): void {
  expect(ms).toBeGreaterThanOrEqual(8_000);
  expect(ms).toBeLessThan(8_000 + 700);
}

const ticket = (account: string, entries: number) => ({ issuer: 'cq.yukuaima', account, product: { site: 'site-v', entries } });

describe('scenario format: the new fields are validated, each error naming the field', () => {
  it('rejects a malformed UID, an unknown event, a negative walk and an expectation of the wrong type', () => {
    const text = problems({
      gate: VENUE,
      passengers: [{ uid: '04A1B2' }, { event: 'landslide' }, { code: ticket('a', 1), walk: -1 }, { card: { issuer: 'cq.yukuaima', number: 'C1' }, expectFare: '2 yuan' }],
    });
    expect(text).toContain('f.json: passengers.0.uid: a card UID in hex: 4, 7 or 10 bytes');
    expect(text).toMatch(/f\.json: passengers\.1\.event: .*'stop' \| 'emergency' \| 'set-mode'/);
    expect(text).toContain('f.json: passengers.2.walk:');
    expect(text).toContain('f.json: passengers.3.expectFare:');
  });

  it('rejects expectations that cannot hold: a fare on a refusal, a tap expected of someone who presents nothing, a fault a UID card cannot have', () => {
    const text = problems({
      gate: VENUE,
      passengers: [
        { code: ticket('a', 1), expect: 'wrong-site', expectFare: 200 },
        { sneak: true, expectCategory: 'adult' },
        { uid: '04A1B2C3D4E5F6', fault: 'cloned' },
      ],
    });
    expect(text).toContain('passengers.0.expectFare: a refused tap (wrong-site) charges nothing: null (got 200)');
    expect(text).toContain('passengers.1.expectCategory: a passenger who presents nothing makes no tap');
    expect(text).toContain('passengers.2.fault: not a fault of a UID card');
  });

  it('rejects events out of place: a stop without a bus section or outside bus mode, an emergency switched on twice', () => {
    expect(problems({ gate: VENUE, passengers: [{ event: 'stop', stop: 'a' }] })).toContain('passengers.0.event: a stop needs a gate.bus section');
    const text = problems({
      gate: BUS,
      passengers: [
        { at: 5, event: 'stop', stop: 'a' },
        { at: 1, event: 'set-mode', mode: 'venue' },
        { at: 10, event: 'emergency', on: true },
        { at: 12, event: 'emergency', on: true },
        { at: 13, event: 'emergency', on: true, by: 'command' },
      ],
    });
    // Entries are checked in time order: the stop at 5 s comes after the mode change at 1 s.
    expect(text).toContain('passengers.0.event: a stop needs the gate in bus mode; at this time it is venue');
    expect(text).toContain('passengers.3.on: the emergency release by contact is already on');
    expect(text).not.toContain('passengers.4');
  });

  it('needs an issuer, in issuers or in trust, and no issuer in both', () => {
    expect(problems({ gate: VENUE, issuers: [] })).toContain('f.json: issuers: a scenario needs at least one issuer, in issuers or in trust');
    const jwk = { kid: 'AAAA', alg: 'ES256', kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' };
    expect(problems({ gate: VENUE, trust: { issuers: [{ id: 'cq.yukuaima', keys: [jwk] }] } })).toContain("trust.issuers.0.id: already one of the scenario's test issuers");
  });

  it('passes a mode section of the gate through to the gate settings, validated there', () => {
    expect(problems({ gate: { ...VENUE, venue: { dailyCapacity: 0 } } })).toContain('f.json: gate.venue.dailyCapacity:');
    const scenario = parseWith(scenarioSchema, { name: 'x', issuers: ISSUERS, gate: { ...VENUE, venue: { dailyCapacity: 40 } } }, 'f.json');
    expect(scenario.gate.venue).toEqual({ dailyCapacity: 40 });
  });
});

describe('scenario runner: the new passengers, events and expectations', () => {
  it('walk: n sends that many people through: fewer than granted leave the rest to the timeout, more are tailgaters', async () => {
    const run = await play({
      gate: VENUE,
      passengers: [
        { name: 'group of 3, two come', at: 0, code: ticket('g', 3), walk: 2 },
        { name: 'one ticket, three walk', at: 30, code: ticket('s', 1), walk: 3 },
        { name: 'nobody walks', at: 60, code: ticket('n', 1), walk: 0 },
      ],
    });
    const [group, crowd, nobody] = run.passengers;
    expect(group!.alarms).toEqual([]);
    // Opened for the first, again for the second and for the third who never came; closed by the timeout.
    expect(group!.barrier.map((a) => a.action)).toEqual(['open', 'open', 'open', 'close']);
    expectOpenTimeout(group!.barrier[3]!.at - group!.barrier[2]!.at);
    expect(crowd!.barrier.map((a) => a.action)).toEqual(['open', 'close']);
    expect(crowd!.alarms.map((a) => a.type)).toEqual(['tailgate', 'tailgate']);
    expect(nobody!.barrier.map((a) => a.action)).toEqual(['open', 'close']);
    expectOpenTimeout(nobody!.barrier[1]!.at - nobody!.barrier[0]!.at);
  });

  it('reports each unmet expectation by name: fare, category, place, openings, alarms and screen', async () => {
    const run = await play({
      gate: VENUE,
      passengers: [
        {
          name: 'wrong on every count',
          code: { ...ticket('w', 1), category: 'senior' },
          expect: 'accepted',
          expectFare: 100,
          expectCategory: 'student',
          expectPlace: { station: 'x' },
          expectOpenings: 2,
          expectAlarms: ['tailgate'],
          expectShown: ['学生卡'],
        },
        { name: 'right on every count', at: 20, code: { ...ticket('r', 1), category: 'senior' }, expect: 'accepted', expectFare: null, expectCategory: 'senior', expectPlace: null, expectOpenings: 1, expectAlarms: [], expectShown: ['老年卡', 'Senior'] },
      ],
    });
    const [wrong, right] = run.passengers;
    expect(wrong!.mismatch).toContain('expected fare 100, got null');
    expect(wrong!.mismatch).toContain('expected category student, got senior');
    expect(wrong!.mismatch).toContain('expected place {"station":"x"}, got null');
    expect(wrong!.mismatch).toContain('expected 2 barrier openings, got 1');
    expect(wrong!.mismatch).toContain('expected alarms ["tailgate"], got []');
    expect(wrong!.mismatch).toContain('expected the screen to show "学生卡"');
    expect(right!.mismatch).toBeUndefined();
  });

  it('applies events at their time: the mode changes for the taps after it, a stop the operator does not have is reported', async () => {
    const gate = { ...BUS, fares: { default: 200, byCategory: {} } };
    const run = await play({
      gate,
      passengers: [
        { name: 'on the bus', at: 0, card: { issuer: 'cq.yukuaima', number: 'C1' }, expect: 'accepted', expectPlace: { operator: 'cq-bus', route: '261' } },
        { name: 'at stop a', at: 10, event: 'stop', stop: 'a', route: '262' },
        { name: 'at stop a on 262', at: 11, card: { issuer: 'cq.yukuaima', number: 'C2' }, expect: 'accepted', expectPlace: { operator: 'cq-bus', route: '262', stop: 'a' } },
        { name: 'at stop z', at: 20, event: 'stop', stop: 'z' },
        { name: 'now a venue', at: 30, event: 'set-mode', mode: 'venue' },
        { name: 'at the venue', at: 31, card: { issuer: 'cq.yukuaima', number: 'C3' }, expect: 'accepted', expectPlace: null },
      ],
    });
    expect(run.passengers.map((p) => [p.name, p.mismatch])).toEqual([
      ['on the bus', undefined],
      ['at stop a on 262', undefined],
      ['at the venue', undefined],
    ]);
    expect(run.passengers.map((p) => p.outcomes[0]!.type === 'tap' && p.outcomes[0]!.tap.mode)).toEqual(['bus', 'bus', 'venue']);
    expect(run.events.map((e) => [e.name, e.mismatch])).toEqual([
      ['at stop a', undefined],
      ['at stop z', 'stop z not taken: stop z is not in the stop table of cq-bus'],
      ['now a venue', undefined],
    ]);
  });

  it('presents a UID card: where UID cards are not enabled it is a card without the CG application', async () => {
    const run = await play({ gate: VENUE, passengers: [{ name: 'badge', uid: '04A1B2C3D4E5F6', expect: 'card-not-supported', expectOpenings: 0 }] });
    const [badge] = run.passengers;
    expect(badge!.mismatch).toBeUndefined();
    expect(badge!.outcomes[0]!.type === 'tap' && badge!.outcomes[0]!.tap.kind).toBe('card');
  });
});

const METRO = { id: 'G-M1', site: 'cq-metro', mode: 'metro-entry', metro: { station: 'jfb', passbackMin: 20, fares: { default: 300, rules: [] } } };
const RSA_CARD = { algorithm: 'RSA', pan: '6228001234560011' };
const SM2_CARD = { algorithm: 'SM2', pan: '6228009876540022', psn: '02' };

function tapOf(passenger: { outcomes: { type: string }[] } | undefined): Tap {
  const outcome = passenger!.outcomes[0] as { type: string; tap?: Tap };
  if (outcome.type !== 'tap') throw new Error(`no tap: ${outcome.type}`);
  return outcome.tap!;
}

describe('scenario format: bank-card passengers', () => {
  it('rejects a bank card with a bad algorithm, PAN or PSN, and a passenger with a bank card and something else', () => {
    const text = problems({
      gate: METRO,
      passengers: [
        { bankCard: { algorithm: 'ECC', pan: '6228001234560011' } },
        { bankCard: { algorithm: 'RSA', pan: '6228-0012-3456' } },
        { bankCard: { algorithm: 'SM2', pan: '6228001234560011', psn: '1' } },
        { bankCard: { algorithm: 'RSA' } },
        { bankCard: RSA_CARD, card: { issuer: 'cq.yukuaima', number: 'C1' } },
        { bankCard: { ...RSA_CARD, cvv: '123' } },
      ],
    });
    expect(text).toMatch(/f\.json: passengers\.0\.bankCard\.algorithm: .*"RSA"\|"SM2" \(got "ECC"\)/);
    expect(text).toContain('f.json: passengers.1.bankCard.pan: a PAN: 12 to 19 digits');
    expect(text).toContain('f.json: passengers.2.bankCard.psn: a PAN sequence number: two digits');
    expect(text).toContain('f.json: passengers.3.bankCard.pan:');
    expect(text).toContain('f.json: passengers.4: a passenger has exactly one of card, code, uid, bankCard, transport, purseCard, text, again, sneak');
    expect(text).toMatch(/f\.json: passengers\.5\.bankCard: .*cvv/);
  });

  it('rejects a fault a bank card cannot have, and a bank fault on another kind of passenger, listing the allowed ones', () => {
    const text = problems({
      gate: METRO,
      passengers: [
        { bankCard: RSA_CARD, fault: 'stale' },
        { bankCard: RSA_CARD, fault: 'garbage' },
        { card: { issuer: 'cq.yukuaima', number: 'C1' }, fault: 'foreign-scheme' },
        { code: { issuer: 'cq.yukuaima', account: 'a' }, fault: 'revoked' },
        { bankCard: RSA_CARD, fault: 'revoked', expect: 'certificate-revoked' },
      ],
    });
    expect(text).toContain('passengers.0.fault: not a fault of a bank card (cloned, tampered, expired, unknown-key, removed, foreign-scheme, revoked)');
    expect(text).toContain('passengers.1.fault: not a fault of a bank card');
    expect(text).toContain('passengers.2.fault: not a fault of a card (');
    expect(text).toContain('passengers.3.fault: not a fault of a code (');
    expect(text).not.toContain('passengers.4');
  });

  it('one card per PAN and PSN: the same card cannot be RSA here and SM2 there (another PSN is another card)', () => {
    const text = problems({
      gate: METRO,
      passengers: [
        { name: 'first', bankCard: RSA_CARD },
        { bankCard: { ...RSA_CARD, psn: '02', algorithm: 'SM2' } },
        { bankCard: { ...RSA_CARD, algorithm: 'SM2' } },
      ],
    });
    expect(text).toContain('passengers.2.bankCard.algorithm: PAN 6228001234560011 PSN 01 is the RSA card of passenger "first": one card, one algorithm');
    expect(text).not.toContain('passengers.1');
  });

  it('deny-lists bank cards under "emv" by PAN, PAN:PSN or token, and only where a passenger presents one', () => {
    expect(problems({ gate: METRO, denyList: { emv: ['6228001234560011'] } })).toContain('f.json: denyList.emv: deny-lists bank cards, but no passenger presents a bankCard');
    const text = problems({
      gate: METRO,
      denyList: { emv: ['6228001234560011', '6228001234560011:01', 'f'.repeat(32), '6228 0012 3456 0011', 'F'.repeat(32)], elsewhere: ['x'] },
      passengers: [{ bankCard: RSA_CARD }],
    });
    expect(text).not.toMatch(/denyList\.emv\.[012]:/);
    expect(text).toContain("f.json: denyList.emv.3: a bank card's PAN (12 to 19 digits), PAN:PSN (PSN two digits), or its token (32 lower-case hex digits)");
    expect(text).toContain('f.json: denyList.emv.4:');
    expect(text).toContain('f.json: denyList.elsewhere: not one of the scenario\'s issuers ("cq.yukuaima", "emv")');
  });

  it('keeps "emv" for bank cards: no test issuer of that id beside bank-card passengers', () => {
    expect(problems({ gate: METRO, issuers: [{ id: 'emv' }], passengers: [{ bankCard: RSA_CARD }] })).toContain('f.json: issuers: "emv" is the issuer of bank cards');
  });
});

describe('scenario runner: bank cards', () => {
  it('builds the gate with bank keys: RSA and SM2 cards accepted at the adult fare, by token and masked PAN, a double tap charged once', async () => {
    const run = await play({
      gate: METRO,
      passengers: [
        { name: 'rsa', at: 0, bankCard: RSA_CARD, expect: 'accepted', expectFare: 300, expectCategory: 'adult', expectOpenings: 1 },
        { name: 'sm2', at: 10, bankCard: SM2_CARD, double: true, expect: 'accepted', expectFare: 300, expectOpenings: 1 },
        { name: 'rsa again', at: 20, bankCard: RSA_CARD, expect: 'passback', expectFare: null, expectCategory: 'adult' },
        { name: 'cg card', at: 30, card: { issuer: 'cq.yukuaima', number: 'C1' }, expect: 'accepted' },
      ],
    });
    expect(run.passengers.map((p) => [p.name, p.mismatch])).toEqual([
      ['rsa', undefined],
      ['sm2', undefined],
      ['rsa again', undefined],
      ['cg card', undefined],
    ]);
    const rsa = tapOf(run.passengers[0]);
    const sm2 = tapOf(run.passengers[1]);
    expect(rsa).toMatchObject({ kind: 'emv', issuer: 'emv', category: 'adult', emv: { pan: '622800******0011', psn: '01', oda: 'rsa' } });
    expect(sm2).toMatchObject({ kind: 'emv', emv: { pan: '622800******0022', psn: '02', oda: 'sm2' } });
    expect(run.passengers[1]!.outcomes.map((o) => o.type)).toEqual(['tap', 'repeat']);
    // The same card is the same token all scenario long: that is how the passback knew it.
    expect(tapOf(run.passengers[2]).subject).toBe(rsa.subject);
    expect(rsa.subject).toMatch(/^[0-9a-f]{32}$/);
    expect(sm2.subject).not.toBe(rsa.subject);
    expect(JSON.stringify(run.passengers.flatMap((p) => p.outcomes))).not.toMatch(/6228001234560011|6228009876540022/);
  });

  it('makes each fault, turns a deny list\'s PAN into the token, and leaves the gate\'s own cards section alone', async () => {
    const run = await play({
      gate: METRO,
      denyList: { emv: ['6228005555550044', '6228005555550055:02'] },
      passengers: [
        { at: 0, bankCard: RSA_CARD, fault: 'cloned', expect: 'card-auth-failed' },
        { at: 5, bankCard: SM2_CARD, fault: 'tampered', expect: 'bad-signature' },
        { at: 10, bankCard: RSA_CARD, fault: 'expired', expect: 'expired' },
        { at: 15, bankCard: SM2_CARD, fault: 'unknown-key', expect: 'unknown-key' },
        { at: 20, bankCard: RSA_CARD, fault: 'removed', expect: 'card-removed' },
        { at: 25, bankCard: { algorithm: 'RSA', pan: '4111111111111111' }, fault: 'foreign-scheme', expect: 'card-not-supported' },
        { at: 30, bankCard: SM2_CARD, fault: 'revoked', expect: 'certificate-revoked' },
        { at: 35, bankCard: { algorithm: 'RSA', pan: '6228005555550044' }, expect: 'deny-listed' },
        { at: 40, bankCard: { algorithm: 'SM2', pan: '6228005555550055', psn: '02' }, expect: 'deny-listed' },
        { at: 45, bankCard: { algorithm: 'SM2', pan: '6228005555550055', psn: '03' }, expect: 'accepted' },
        // The genuine cards after their clones and faulty copies: accepted.
        { at: 50, bankCard: RSA_CARD, expect: 'accepted' },
        { at: 55, bankCard: SM2_CARD, expect: 'accepted' },
      ],
    });
    expect(run.passengers.filter((p) => p.mismatch).map((p) => [p.name, p.mismatch])).toEqual([]);
    expect(tapOf(run.passengers[7])).toMatchObject({ reason: 'deny-listed', issuer: 'emv', kind: 'emv' });

    const cgOnly = await play({ gate: { ...METRO, cards: { applications: ['cg'] } }, passengers: [{ bankCard: RSA_CARD, expect: 'card-not-supported' }] });
    expect(cgOnly.passengers[0]!.mismatch).toBeUndefined();
  });
});

