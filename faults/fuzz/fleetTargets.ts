import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { TrustListError, TrustStore } from '../../src/core/credentials/trustList.js';
import type { DenyListUpdate } from '../../src/core/denylist/denyListUpdate.js';
import { openDenyListUpdate } from '../../src/core/sync/denyListMessage.js';
import { openFleetCommand } from '../../src/core/sync/fleetCommand.js';
import { FleetMessageError } from '../../src/core/sync/fleetMessage.js';
import { openTrustUpdate } from '../../src/core/sync/trustUpdate.js';
import { cborBytes, cborItem } from './cborValues.js';
import { mutatedSign1 } from './coseMutators.js';
import {
  COMMAND_PAYLOADS,
  COMMAND_SEEDS,
  DENY_PAYLOADS,
  DENY_SEEDS,
  signedDocument,
  signFleet,
  TRUST_PAYLOADS,
  TRUST_SEEDS,
  trusted,
  type FleetInput,
} from './fleetSeeds.js';
import { jsonValueWith, mutatedJson } from './jsonMutators.js';
import { mutatedBytes } from './mutators.js';
import { accepted, crashed, type FuzzTarget, type Outcome } from './target.js';
import { fleet, GATE_ID, issuers, NOW, trust, trustDocument } from './world.js';

/*
 * Signed fleet messages (deny-list updates, commands, trust-list updates):
 * each opens to a typed value or throws FleetMessageError with one of its
 * reasons. The strong property: an accepted message says exactly what the
 * trusted fleet key signed; anything else is a forgery.
 */

const REJECTIONS: ReadonlySet<string> = new Set(['malformed', 'unknown-key', 'bad-signature', 'invalid']);

interface FleetSpec<T> {
  name: string;
  weight: number;
  seeds: readonly FleetInput[];
  payloads: readonly Record<string, unknown>[];
  fields: readonly string[];
  /** Right-typed values for a field, near what fleet ops sends, so that generated payloads reach the schema's refinements. */
  value(field: string): fc.Arbitrary<unknown>;
  topics?: readonly string[];
  open(input: FleetInput): T;
  /** What differs between the opened message and the signed payload; undefined when they agree. */
  differs(opened: T, signed: Record<string, unknown>, input: FleetInput): string | undefined;
}

function objectOf(fields: readonly string[], value: (field: string) => fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  const any = jsonValueWith(fields);
  return fc.tuple(...fields.map((f) => fc.option(fc.oneof({ weight: 4, arbitrary: value(f) }, { weight: 1, arbitrary: any }), { freq: 6, nil: undefined }))).map((values) => {
    const object: Record<string, unknown> = {};
    values.forEach((v, i) => {
      if (v !== undefined) object[fields[i]!] = v;
    });
    return object;
  });
}

const signers = fc.constantFrom(fleet.es, fleet.ed);
const encodings = fc.constantFrom('cbor' as const, 'json' as const);

function fleetArbitrary<T>(spec: FleetSpec<T>): fc.Arbitrary<FleetInput> {
  const seedBytes = spec.seeds.map((s) => s.bytes);
  const signedOf = (seed: number) => spec.seeds[seed]!.signedPayload;
  const messages: fc.Arbitrary<Omit<FleetInput, 'topic'>> = fc.oneof(
    { weight: 3, arbitrary: mutatedSign1(seedBytes).map((m) => ({ bytes: m.value, signedPayload: signedOf(m.seed) })) },
    { weight: 2, arbitrary: mutatedBytes(seedBytes).map((m) => ({ bytes: m.value, signedPayload: signedOf(m.seed) })) },
    // Payloads changed field by field and signed for real: the schema behind the signature sees them.
    { weight: 3, arbitrary: fc.tuple(signers, mutatedJson(spec.payloads, spec.fields), encodings).map(([signer, m, encoding]) => trusted(signer, m.value, encoding)) },
    { weight: 2, arbitrary: fc.tuple(signers, objectOf(spec.fields, (f) => spec.value(f)), encodings).map(([signer, payload, encoding]) => trusted(signer, payload, encoding)) },
    { weight: 1, arbitrary: fc.tuple(signers, cborItem.map(cborBytes)).map(([signer, payload]) => ({ bytes: signFleet(signer, payload), signedPayload: payload })) },
    { weight: 1, arbitrary: fc.oneof(fc.uint8Array({ maxLength: 200 }), cborItem.map(cborBytes)).map((bytes) => ({ bytes, signedPayload: undefined })) },
    { weight: 1, arbitrary: fc.nat({ max: spec.seeds.length - 1 }).map((i) => spec.seeds[i]!) },
  );
  if (!spec.topics) return messages;
  return fc.tuple(messages, fc.constantFrom(...spec.topics)).map(([m, topic]) => ({ ...m, topic }));
}

function fleetTarget<T>(spec: FleetSpec<T>): FuzzTarget<FleetInput> {
  const genuine = spec.seeds.flatMap((s) => (s.signedPayload ? [signedDocument(s.signedPayload)] : []));
  return {
    name: spec.name,
    weight: spec.weight,
    arbitrary: fleetArbitrary(spec),
    run: (input): Outcome => {
      let opened: T;
      try {
        opened = spec.open(input);
      } catch (error) {
        if (error instanceof FleetMessageError && REJECTIONS.has(error.reason) && error.detail !== '') return { kind: 'refused', reason: error.reason };
        if (error instanceof TrustListError) return { kind: 'refused', reason: 'trust-list-error' };
        return crashed(error);
      }
      // A mutant may have become another genuine message (a signature swapped back in): what it says must be
      // what its own seed, or any genuine message, says.
      const references = [...(input.signedPayload ? [signedDocument(input.signedPayload)] : []), ...genuine];
      const differences = references.map((signed) => spec.differs(opened, signed, input));
      if (differences.some((d) => d === undefined)) return accepted;
      return { kind: 'accepted', forgery: input.signedPayload ? differences[0]! : `accepted ${JSON.stringify(opened)}, which no trusted fleet key signed` };
    },
    encode: (input) => JSON.stringify({ ...input, bytes: Buffer.from(input.bytes).toString('hex'), signedPayload: input.signedPayload && Buffer.from(input.signedPayload).toString('hex') }),
    decode: (text) => {
      const json = JSON.parse(text) as { bytes: string; signedPayload?: string; topic?: string };
      return { ...json, bytes: Uint8Array.from(Buffer.from(json.bytes, 'hex')), signedPayload: json.signedPayload === undefined ? undefined : Uint8Array.from(Buffer.from(json.signedPayload, 'hex')) };
    },
  };
}

/** The fields that differ between what was opened and what was signed, for the forgery report. */
function mismatch(opened: Record<string, unknown>, expected: Record<string, unknown>): string | undefined {
  const fields = Object.keys(expected).filter((k) => !isDeepStrictEqual(opened[k], expected[k]));
  return fields.length === 0 ? undefined : `accepted ${JSON.stringify(pick(opened, fields))}, signed was ${JSON.stringify(pick(expected, fields))}`;
}

function pick(object: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f, object[f] instanceof Uint8Array ? Buffer.from(object[f] as Uint8Array).toString('hex') : object[f]]));
}

const seq = () => fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constantFrom(-1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e300, '5'));
const es = issuers.es.id;
const DENY_ENTRY = ['acct-1', 'card-9', 'cti:00ff', 'cti:00FF', 'cti:', 'cti:zz', '', 'x'.repeat(257)];

/** What opens a deny-list update: the gate's own function, or (to test the harness) another. */
type DenyListOpener = (bytes: Uint8Array, topicIssuer: string) => DenyListUpdate;

export function denyListTarget(open: DenyListOpener = (bytes, topic) => openDenyListUpdate(bytes, topic, trust, NOW)): FuzzTarget<FleetInput> {
  return fleetTarget({
    name: 'mqtt-deny-list',
    weight: 4,
    seeds: DENY_SEEDS,
    payloads: DENY_PAYLOADS,
    fields: ['issuer', 'seq', 'base', 'add', 'remove', 'issuedAt', 'part', 'parts'],
    topics: [es, es, issuers.ed.id],
    value: (field) => {
      if (field === 'issuer') return fc.constantFrom(es, issuers.ed.id, '', 'x'.repeat(300));
      if (field === 'add' || field === 'remove') return fc.array(fc.oneof(fc.constantFrom(...DENY_ENTRY), fc.string({ maxLength: 10 })), { maxLength: 6 });
      return seq();
    },
    open: (input) => open(input.bytes, input.topic ?? es),
    differs: (update, signed, input) => {
      if (update.issuer !== input.topic) return `update for ${update.issuer} accepted on the topic of ${String(input.topic)}`;
      const part = signed.part !== undefined || signed.parts !== undefined ? { index: signed.part, count: signed.parts } : undefined;
      return mismatch(
        update as unknown as Record<string, unknown>,
        { issuer: signed.issuer, seq: signed.seq, base: signed.base, add: signed.add ?? [], remove: signed.remove ?? [], issuedAt: signed.issuedAt, part },
      );
    },
  });
}

export function commandTarget(): FuzzTarget<FleetInput> {
  return fleetTarget({
    name: 'mqtt-command',
    weight: 4,
    seeds: COMMAND_SEEDS,
    payloads: COMMAND_PAYLOADS,
    fields: ['type', 'gate', 'nonce', 'exp', 'iat', 'mode', 'issuer'],
    value: (field) => {
      switch (field) {
        case 'type':
          return fc.constantFrom('open', 'set-mode', 'resync', 'reload-trust', 'emergency', 'emergency-release', 'reboot', '');
        case 'gate':
          return fc.constantFrom(GATE_ID, 'other', '');
        case 'nonce':
          return fc.oneof(fc.string({ minLength: 6, maxLength: 130 }), fc.uint8Array({ minLength: 6, maxLength: 66 }));
        case 'mode':
          return fc.constantFrom('bus', 'metro-entry', 'metro-exit', 'venue', 'access', 'party');
        case 'issuer':
          return fc.constantFrom(es, '');
        default:
          return fc.oneof(fc.integer({ min: NOW - 100, max: NOW + 100 }), fc.constantFrom(0, -5, 1.5, 1e300));
      }
    },
    open: (input) => openFleetCommand(input.bytes, trust, NOW),
    // Every field the command kept must be the signed one (the schema drops fields its type does not have).
    differs: (command, signed) => {
      const opened = command as unknown as Record<string, unknown>;
      const expected = Object.fromEntries(Object.keys(opened).map((k) => [k, k === 'nonce' && signed.nonce instanceof Uint8Array ? Buffer.from(signed.nonce).toString('hex') : signed[k]]));
      return mismatch(opened, expected);
    },
  });
}

/** What matters in a trust list: which issuer and fleet keys it trusts, and when. */
function trustSummary(list: unknown): unknown {
  const doc = (list ?? {}) as { issuers?: { id?: unknown; keys?: unknown[] }[]; fleet?: unknown[] };
  const key = (k: unknown) => {
    const { kid, alg, kty, crv, x, y, nbf, exp } = (k ?? {}) as Record<string, unknown>;
    return { kid, alg, kty, crv, x, y, nbf, exp };
  };
  return { issuers: (doc.issuers ?? []).map((i) => ({ id: i.id, keys: (i.keys ?? []).map(key) })), fleet: (doc.fleet ?? []).map(key) };
}

export function trustUpdateTarget(): FuzzTarget<FleetInput> {
  const trustFields = ['seq', 'issuedAt', 'trustList', 'issuers', 'fleet', 'id', 'name', 'keys', 'kid', 'alg', 'kty', 'crv', 'x', 'y', 'nbf', 'exp'];
  return fleetTarget({
    name: 'mqtt-trust-update',
    weight: 3,
    seeds: TRUST_SEEDS,
    payloads: TRUST_PAYLOADS,
    fields: trustFields,
    value: (field) => (field === 'trustList' ? fc.constantFrom(trustDocument, { issuers: [] }, { issuers: [{ id: 'a', keys: [] }], fleet: [] }) : seq()),
    // As the gate takes it: opened with the fleet keys in force, then loaded as the new trust list.
    open: (input) => {
      const update = openTrustUpdate(input.bytes, trust, NOW);
      TrustStore.fromDocument(update.trustList);
      return update;
    },
    differs: (update, signed) =>
      mismatch({ seq: update.seq, issuedAt: update.issuedAt, trustList: trustSummary(update.trustList) }, { seq: signed.seq, issuedAt: signed.issuedAt, trustList: trustSummary(signed.trustList) }),
  });
}
