import fc from 'fast-check';
import { CardIoError, type CardChannel, type CardIoErrorKind } from '../../hal/cardReader.js';
import type { Decision } from '../../src/core/decider.js';
import type { ClaimSet, TestIssuer } from '../../sim/issuer.js';
import { UidCard } from '../../sim/uidCard.js';
import { ScriptedCard, VirtualCard, type ApduResponder } from '../../sim/virtualCard.js';
import { decisionOutcome } from './decisionOutcome.js';
import { fixedBytes, fixedKeyPair } from './fixedKeys.js';
import { applyEdits, editFromJson, edits, editToJson, type Edit } from './mutators.js';
import type { FuzzTarget } from './target.js';
import { accessDecider, ALLOWED_UID, DENIED_SUBJECT, issuers, NOW, TIME, venueDecider } from './world.js';

/*
 * APDU responses: the card verifier behind a channel whose answers are a
 * genuine simulated card's, changed by a plan (one action per exchange):
 * edited, replaced, cut short, padded past any certificate, given another
 * status word, or a reader error as a real PC/SC channel raises it.
 */

type Action =
  | { kind: 'pass' }
  | { kind: 'edit'; list: Edit[] }
  | { kind: 'random'; bytes: number[] }
  | { kind: 'sw'; sw: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'oversize'; extra: number }
  | { kind: 'empty' }
  | { kind: 'error'; error: CardIoErrorKind };

export interface CardInput {
  card: number;
  /** Present it at the access gate (UID cards allowed) instead of the venue gate. */
  access: boolean;
  plan: Action[];
}

interface FuzzCard {
  name: string;
  responder: ApduResponder;
  /** Issuer and card number a trusted issuer certified to this card's key; absent: it may not be accepted. */
  signed: { issuer: string; subject: string } | undefined;
}

function cgCard(issuer: TestIssuer, name: string, number: string, claims: Partial<ClaimSet> = {}, keyName = name): VirtualCard {
  const key = fixedKeyPair(issuer.key.alg, `card ${keyName}`);
  return new VirtualCard(number, issuer.boundCredential(key, { sub: number, iat: NOW - 86_400, cti: fixedBytes(`card ${name}`), category: 'student', ...claims }), key);
}

const ES_NUMBER = '3101000000000001';
const esCard = cgCard(issuers.es, 'es', ES_NUMBER);

const CARDS: FuzzCard[] = [
  { name: 'es', responder: esCard, signed: { issuer: issuers.es.id, subject: ES_NUMBER } },
  { name: 'ed', responder: cgCard(issuers.ed, 'ed', '5101000000000002', { category: 'adult' }), signed: { issuer: issuers.ed.id, subject: '5101000000000002' } },
  { name: 'expired', responder: cgCard(issuers.es, 'expired', '3101000000000003', { iat: NOW - 400 * 86_400, exp: NOW - 86_400 }), signed: { issuer: issuers.es.id, subject: '3101000000000003' } },
  { name: 'denied', responder: cgCard(issuers.es, 'denied', DENIED_SUBJECT), signed: { issuer: issuers.es.id, subject: DENIED_SUBJECT } },
  // The genuine certificate on a card with another key: all a skimmer can make.
  { name: 'clone', responder: new VirtualCard(ES_NUMBER, esCard.certificate, fixedKeyPair('ES256', 'card clone')), signed: undefined },
  { name: 'stranger', responder: cgCard(issuers.stranger, 'stranger', '9901000000000004'), signed: undefined },
  { name: 'uid', responder: new UidCard(ALLOWED_UID), signed: undefined },
  { name: 'uid-unknown', responder: new UidCard('04112233445566'), signed: undefined },
  { name: 'garbage', responder: new ScriptedCard([Uint8Array.of(0x6f, 0x00), Uint8Array.of(0x90, 0x00), Uint8Array.of(0x01, 0x02, 0x90, 0x00)]), signed: undefined },
];

const STATUS_WORDS = [0x9000, 0x6282, 0x6b00, 0x6a82, 0x6100, 0x6110, 0x61ff, 0x6c00, 0x6c05, 0x6cff, 0x6985, 0x6700, 0x6d00, 0x6e00, 0x6f00, 0x9001];

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ kind: 'pass' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('edit' as const), list: edits }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.array(fc.nat({ max: 255 }), { maxLength: 300 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sw' as const), sw: fc.oneof(fc.constantFrom(...STATUS_WORDS), fc.nat({ max: 0xffff })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat({ max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('oversize' as const), extra: fc.integer({ min: 1, max: 70_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('error' as const), error: fc.constantFrom<CardIoErrorKind>('removed', 'timeout', 'reader-gone', 'io') }) },
);

export const cardArbitrary: fc.Arbitrary<CardInput> = fc.record({
  card: fc.nat({ max: CARDS.length - 1 }),
  access: fc.boolean(),
  plan: fc.array(action, { maxLength: 12 }),
});

/** A PC/SC channel to a simulated card whose answers follow the plan; past its end, the card answers as it is. */
class PlannedChannel implements CardChannel {
  readonly readerName = 'fuzz reader';
  private exchange = 0;

  constructor(
    private readonly card: ApduResponder,
    private readonly plan: readonly Action[],
  ) {
    card.reset();
  }

  get atr(): Uint8Array {
    return this.card.atr;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    const action = this.plan[this.exchange++] ?? { kind: 'pass' };
    // The card sees every command, whatever then happens to its answer on the way back.
    const genuine = this.card.respond(apdu);
    const data = genuine.subarray(0, Math.max(0, genuine.length - 2));
    const sw = genuine.subarray(Math.max(0, genuine.length - 2));
    switch (action.kind) {
      case 'pass':
        return genuine;
      case 'edit':
        return applyEdits(genuine, action.list, []);
      case 'random':
        return Uint8Array.from(action.bytes);
      case 'sw':
        return Uint8Array.from([...data, action.sw >> 8, action.sw & 0xff]);
      case 'truncate':
        return genuine.subarray(0, action.keep % (genuine.length + 1));
      case 'oversize':
        return Uint8Array.from(Buffer.concat([data, Buffer.alloc(action.extra, 0xa5), sw]));
      case 'empty':
        return new Uint8Array(0);
      case 'error':
        throw new CardIoError(action.error, `fuzz: ${action.error}`);
    }
  }

  async release(): Promise<void> {}
}

function cardForgery(decision: Decision, card: FuzzCard): string | undefined {
  if (decision.result !== 'accepted') return undefined;
  const { kind, issuer, subject } = decision.credential;
  if (kind === 'uid') return subject === ALLOWED_UID ? undefined : `UID ${subject} accepted, not on the allow-list`;
  if (!card.signed) return `card ${card.name} accepted as ${issuer} ${subject}, though no trusted issuer certified its key`;
  if (issuer !== card.signed.issuer || subject !== card.signed.subject) return `card ${card.name} accepted as ${issuer} ${subject}, certified as ${card.signed.issuer} ${card.signed.subject}`;
  return undefined;
}

/** The card verifier through Decider.decideCard, at a venue gate and at an access gate that reads UID cards. */
export function cardTarget(): FuzzTarget<CardInput> {
  const venue = venueDecider([]);
  const access = accessDecider(ES_NUMBER);
  return {
    name: 'apdu-card',
    weight: 4,
    arbitrary: cardArbitrary,
    run: async (input) => {
      const card = CARDS[input.card % CARDS.length]!;
      const decision = await (input.access ? access : venue).decideCard(new PlannedChannel(card.responder, input.plan), TIME);
      return decisionOutcome(decision, (d) => cardForgery(d, card));
    },
    encode: (input) => JSON.stringify({ ...input, plan: input.plan.map((a) => (a.kind === 'edit' ? { ...a, list: a.list.map(editToJson) } : a)) }),
    decode: (text) => {
      const input = JSON.parse(text) as CardInput;
      return { ...input, plan: input.plan.map((a) => (a.kind === 'edit' ? { ...a, list: a.list.map(editFromJson) } : a)) };
    },
  };
}
