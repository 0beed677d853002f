import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { SM2_P256 } from '../../src/core/crypto/sm2Curve.js';
import { TrustStore } from '../../src/core/credentials/trustList.js';
import { Decider, type Decision } from '../../src/core/decider.js';
import { MemoryDenyList } from '../../src/core/denyList.js';
import { ReplayGuard } from '../../src/core/replayGuard.js';
import { INTEROPERABLE, LOCAL } from '../../sim/transport/codeEncoder.js';
import { sm2KeyPairOf, type Sm2KeyPair } from '../../sim/transport/transportKeys.js';
import { TransportRoot, TransportTestIssuer } from '../../sim/transport/transportParties.js';
import { decisionOutcome } from './decisionOutcome.js';
import { mutatedBytes } from './mutators.js';
import { hex, type FuzzTarget } from './target.js';
import { NOW, settings, TIME, trustDocument } from './world.js';

/*
 * National transport QR codes (src/core/credentials/transport/) end to end
 * through the decider of the fuzz gate, whose trust list gains a transport
 * root. Seeds are genuine codes of both versions; mutants keep or fix up the
 * length fields, so that most get past the layout to the signatures. Only a
 * seed's own bytes may be accepted (the byte before each signature is signed
 * by nobody, so it may differ): anything else accepted is a forgery.
 */

/** An SM2 key derived from a name, so that every run has the same root, issuer and phones. */
function fixedSm2Key(name: string): Sm2KeyPair {
  const secret = BigInt(`0x${createHash('sha256').update(`citygate fuzz sm2 key: ${name}`).digest('hex')}`);
  return sm2KeyPairOf((secret % (SM2_P256.n - 2n)) + 1n);
}

const MIN_BYTES = 332;
const MAX_DEFINED = 32;

interface World {
  decider: Decider;
  seeds: Uint8Array[];
  /** The seeds with their unsigned bytes zeroed, as hex: what an accepted input must be. */
  genuine: Set<string>;
}

let world: World | undefined;

/** The two bytes no signature covers: the first of the issuer's and of the user's signature field. */
function withoutUnsigned(bytes: Uint8Array): string {
  const copy = Uint8Array.from(bytes);
  const defined = bytes.length - MIN_BYTES;
  if (defined >= 0 && defined <= MAX_DEFINED) {
    copy[198 + defined] = 0;
    copy[bytes.length - 65] = 0;
  }
  return hex.encode(copy);
}

function worldOf(): World {
  if (world) return world;
  const root = new TransportRoot(0x01, fixedSm2Key('root'));
  const issuer = new TransportTestIssuer(root, 'F0220001', { key: fixedSm2Key('issuer'), serial: '000001' });
  const enrol = (name: string, version: typeof INTEROPERABLE | typeof LOCAL, defined: number) =>
    issuer.enrol({ accountNumber: createHash('sha256').update(name).digest('hex').slice(0, 20).toUpperCase(), version, authorisedUntil: NOW + 3_600, defined: new Uint8Array(defined).fill(0x5a), key: fixedSm2Key(name) });
  const seeds = [enrol('rider 80', INTEROPERABLE, 0).code(NOW - 5), enrol('rider 81', LOCAL, 0).code(NOW - 5), enrol('rider 81 defined', LOCAL, 12).code(NOW)].map((b) => Uint8Array.from(b));
  const trust = TrustStore.fromDocument({ ...trustDocument, transport: { roots: [root.trustEntry()], issuers: [issuer.id] } });
  world = { decider: new Decider(trust, settings, new MemoryDenyList(), new ReplayGuard()), seeds, genuine: new Set(seeds.map(withoutUnsigned)) };
  return world;
}

/** A mutant's length field and defined-field length made to agree with its size, where they can. */
function lengthsFixed(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  if (out.length >= 3) {
    out[1] = ((out.length - 3) >> 8) & 0xff;
    out[2] = (out.length - 3) & 0xff;
  }
  const defined = out.length - MIN_BYTES;
  if (defined >= 0 && defined <= MAX_DEFINED) out[197] = defined;
  return out;
}

function forgery(decision: Decision, bytes: Uint8Array): string | undefined {
  if (decision.result !== 'accepted') return undefined;
  return worldOf().genuine.has(withoutUnsigned(bytes)) ? undefined : `accepted ${decision.credential.subject} from bytes no seed holds`;
}

export function transportTarget(): FuzzTarget<Uint8Array> {
  const { decider, seeds } = worldOf();
  const versioned = (bytes: Uint8Array) => Uint8Array.from([0x80 + (bytes[0]! & 1), ...bytes.subarray(1)]);
  return {
    name: 'transport-code',
    weight: 1,
    arbitrary: fc.oneof(
      { weight: 4, arbitrary: mutatedBytes(seeds).map((m) => lengthsFixed(m.value)) },
      { weight: 2, arbitrary: mutatedBytes(seeds).map((m) => m.value) },
      { weight: 1, arbitrary: fc.nat({ max: seeds.length - 1 }).map((i) => seeds[i]!) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => lengthsFixed(versioned(b))) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }) },
    ),
    run: (bytes) => decisionOutcome(decider.decideCode(bytes, TIME), (d) => forgery(d, bytes)),
    encode: hex.encode,
    decode: hex.decode,
  };
}
