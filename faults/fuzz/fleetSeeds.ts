import { decode, encode, Tagged } from 'cborg';
import { ALG_LABEL, toBeSigned } from '../../src/core/credentials/cose.js';
import { jwkOf, signBytes } from '../../sim/issuer.js';
import { fixedBytes, fixedKeyPair, fixedKid } from './fixedKeys.js';
import { fleet, GATE_ID, issuers, NOW, trustDocument, type FleetSigner } from './world.js';

/*
 * Fleet messages (docs/sync.md) signed the way fleet ops signs them: a
 * COSE_Sign1 by a fleet key over a CBOR or JSON payload. Written here, not
 * taken from provisioning/fleet, so that the fuzz inputs do not share a
 * signer's mistakes with the tools.
 */

export type PayloadEncoding = 'cbor' | 'json';

/** A fleet message and the payload bytes a trusted fleet key signed into it (absent: none did). */
export interface FleetInput {
  bytes: Uint8Array;
  signedPayload: Uint8Array | undefined;
  /** The issuer of the deny-list topic it arrives on. */
  topic?: string;
}

export function payloadBytes(payload: unknown, encoding: PayloadEncoding): Uint8Array {
  return encoding === 'json' ? Uint8Array.from(Buffer.from(JSON.stringify(payload))) : encode(payload);
}

/**
 * The purpose (docs/sync.md, `typ` in the protected header) a payload's fields
 * name, as fleet ops would sign it: a payload that names none is signed as a
 * command, so that some fuzzed payloads reach a schema of another type.
 */
function typFor(payload: Uint8Array): string {
  const document = signedDocument(payload);
  if ('trustList' in document) return 'citygate-trust';
  if ('revoked' in document) return 'citygate-revocations';
  if ('base' in document) return 'citygate-denylist';
  if ('nonce' in document || 'gate' in document || !('issuer' in document)) return 'citygate-command';
  return 'citygate-denylist';
}

export function signFleet(signer: FleetSigner, payload: Uint8Array, tagged = true): Uint8Array {
  const protectedBytes = encode(new Map<number, unknown>([[1, ALG_LABEL[signer.key.alg]], [4, signer.kid], [16, typFor(payload)]]));
  const structure = [protectedBytes, new Map(), payload, signBytes(signer.key, toBeSigned({ protectedBytes, payload }))];
  return encode(tagged ? new Tagged(18, structure) : structure);
}

/** A message signed by a trusted fleet key: its payload is what fleet ops said. */
export function trusted(signer: FleetSigner, payload: unknown, encoding: PayloadEncoding, tagged = true): FleetInput {
  const bytes = payloadBytes(payload, encoding);
  return { bytes: signFleet(signer, bytes, tagged), signedPayload: bytes };
}

/** A message no trusted fleet key signed. */
export function untrusted(signer: FleetSigner, payload: unknown, encoding: PayloadEncoding): FleetInput {
  return { bytes: signFleet(signer, payloadBytes(payload, encoding)), signedPayload: undefined };
}

/** CBOR maps with text keys as objects, recursively, as the gate reads either encoding; other values as they are. */
function plainOf(value: unknown): unknown {
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [k, v] of value) object[String(k)] = plainOf(v);
    return object;
  }
  return Array.isArray(value) ? value.map(plainOf) : value;
}

/** What the signed payload bytes say, read leniently: the reference an accepted message is compared with. */
export function signedDocument(payload: Uint8Array): Record<string, unknown> {
  try {
    const value = payload[0] === 0x7b ? (JSON.parse(Buffer.from(payload).toString('utf8')) as unknown) : plainOf(decode(payload, { useMaps: true } as Parameters<typeof decode>[1]));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const issuerKey = { key: issuers.es.key, kid: issuers.es.kid };
const es = issuers.es.id;

const snapshot = { issuer: es, seq: 5, base: 0, add: ['acct-9', 'card-77', 'cti:00ff00ff'], remove: [], issuedAt: NOW - 60 };
const delta = { issuer: es, seq: 6, base: 5, add: ['acct-10'], remove: ['acct-9'], issuedAt: NOW - 30 };
const part = { issuer: es, seq: 8, base: 0, add: ['a', 'b'], issuedAt: NOW, part: 1, parts: 2 };
const otherIssuer = { issuer: issuers.ed.id, seq: 1, base: 0, add: ['x'], remove: [], issuedAt: NOW };

export const DENY_PAYLOADS: readonly Record<string, unknown>[] = [snapshot, delta, part, otherIssuer];

/** A deny-list update on the topic of the issuer it names. */
function onItsTopic(input: FleetInput, payload: { issuer: string }): FleetInput {
  return { ...input, topic: payload.issuer };
}

export const DENY_SEEDS: readonly FleetInput[] = [
  onItsTopic(trusted(fleet.es, snapshot, 'cbor'), snapshot),
  onItsTopic(trusted(fleet.es, delta, 'json'), delta),
  onItsTopic(trusted(fleet.ed, part, 'cbor', false), part),
  onItsTopic(trusted(fleet.ed, otherIssuer, 'json'), otherIssuer),
  onItsTopic(untrusted(fleet.impostor, snapshot, 'cbor'), snapshot),
  onItsTopic(untrusted(fleet.stranger, delta, 'json'), delta),
  onItsTopic(untrusted(issuerKey, snapshot, 'cbor'), snapshot),
];

export const COMMAND_PAYLOADS: readonly Record<string, unknown>[] = [
  { type: 'open', gate: GATE_ID, nonce: 'nonce-0001-open', exp: NOW + 60 },
  { type: 'set-mode', gate: GATE_ID, mode: 'bus', nonce: fixedBytes('nonce set-mode', 12), exp: NOW + 60, iat: NOW },
  { type: 'resync', gate: GATE_ID, issuer: es, nonce: 'nonce-0003-resync', exp: NOW + 60 },
  { type: 'reload-trust', gate: 'other-gate', nonce: 'nonce-0004-trust', exp: NOW - 600 },
  { type: 'emergency', gate: GATE_ID, nonce: 'nonce-0005-emergency', exp: NOW + 60 },
  { type: 'emergency-release', gate: GATE_ID, nonce: 'nonce-0006-release', exp: NOW + 60 },
];

export const COMMAND_SEEDS: readonly FleetInput[] = [
  trusted(fleet.es, COMMAND_PAYLOADS[0], 'cbor'),
  trusted(fleet.es, COMMAND_PAYLOADS[1], 'cbor'),
  trusted(fleet.ed, COMMAND_PAYLOADS[2], 'json'),
  trusted(fleet.es, COMMAND_PAYLOADS[3], 'json'),
  trusted(fleet.ed, COMMAND_PAYLOADS[4], 'cbor'),
  trusted(fleet.es, COMMAND_PAYLOADS[5], 'json', false),
  untrusted(fleet.impostor, COMMAND_PAYLOADS[0], 'cbor'),
  untrusted(issuerKey, COMMAND_PAYLOADS[4], 'cbor'),
];

/** A rotated trust list: a new issuer key and a new fleet key next to the old ones. */
const rotated = {
  issuers: [...trustDocument.issuers, { id: 'new.issuer', keys: [jwkOf(fixedKeyPair('EdDSA', 'issuer new'), fixedKid('issuer new'), { nbf: NOW - 10, exp: NOW + 86_400 })] }],
  fleet: [...(trustDocument.fleet ?? []), jwkOf(fixedKeyPair('ES256', 'fleet next'), fixedKid('fleet next'))],
};

export const TRUST_PAYLOADS: readonly Record<string, unknown>[] = [
  { seq: 2, issuedAt: NOW - 100, trustList: trustDocument },
  { seq: 3, issuedAt: NOW, trustList: rotated },
];

export const TRUST_SEEDS: readonly FleetInput[] = [
  trusted(fleet.es, TRUST_PAYLOADS[0], 'json'),
  trusted(fleet.ed, TRUST_PAYLOADS[1], 'cbor'),
  untrusted(fleet.stranger, TRUST_PAYLOADS[1], 'json'),
];
