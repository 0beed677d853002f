import { randomBytes } from 'node:crypto';
import type { TransportTrustDocument } from '../src/core/credentials/transport/transportTrust.js';
import { TRANSPORT_ISSUER } from '../src/core/credentials/transport/transportIssuer.js';
import { INTEROPERABLE, LOCAL } from './transport/codeEncoder.js';
import { newSm2KeyPair } from './transport/transportKeys.js';
import { TransportRoot, TransportTestIssuer, type TransportRider } from './transport/transportParties.js';
import type { Fault, Scenario, ScenarioPassenger } from './scenario.js';

/*
 * The national transport QR codes of a scenario's passengers: a test root CA,
 * an issuer it certifies (the gate's trust list names both), one phone per
 * account all scenario long (a regular rider: the gate verifies its account
 * once), and the faults, made with the simulator's encoder (sim/transport),
 * never with the gate's code.
 */

export type TransportSpec = NonNullable<ScenarioPassenger['transport']>;

const ROOT_INDEX = 0x01;
/** A root index the gate's trust list lacks. */
const STRAY_ROOT_INDEX = 0x09;
const ISSUER_ID = 'C0DE0001';
/** Certified by the gate's root, but not one of the issuers its trust list takes. */
const UNLISTED_ISSUER_ID = 'C0DE0002';
const ACCOUNT_TYPES: Record<TransportSpec['category'], number> = { adult: 0x01, student: 0x02, senior: 0x03 };
/** Authorised for the day; a stale code is 10 minutes old, a future one 10 minutes ahead. */
const DAY = 86_400;
const FAR_SEC = 600;

/** The root and issuers are made once per process: their keys do not matter, only that the gate trusts them. */
let parties: { issuer: TransportTestIssuer; unlisted: TransportTestIssuer; stray: TransportTestIssuer } | undefined;

function partiesOf(): NonNullable<typeof parties> {
  if (!parties) {
    const root = new TransportRoot(ROOT_INDEX);
    parties = {
      issuer: new TransportTestIssuer(root, ISSUER_ID),
      unlisted: new TransportTestIssuer(root, UNLISTED_ISSUER_ID),
      stray: new TransportTestIssuer(new TransportRoot(STRAY_ROOT_INDEX), ISSUER_ID),
    };
  }
  return parties;
}

export function hasTransportCodes(scenario: Pick<Scenario, 'passengers'>): boolean {
  return scenario.passengers.some((entry) => !('event' in entry) && entry.transport !== undefined);
}

export class TransportCodes {
  private readonly riders = new Map<string, TransportRider>();

  private constructor(private readonly startSec: number) {}

  static forScenario(scenario: Pick<Scenario, 'passengers'>, startSec: number): TransportCodes | undefined {
    return hasTransportCodes(scenario) ? new TransportCodes(startSec) : undefined;
  }

  /** The gate's trust list's transport object: the run's root and its one listed issuer. */
  trust(): TransportTrustDocument {
    const { issuer } = partiesOf();
    return { roots: [issuer.root.trustEntry()], issuers: [issuer.id] };
  }

  /** Deny-list entries under `transport` are account numbers: the gate names them in upper case. */
  denyList(entries: Record<string, string[]>): Record<string, string[]> {
    const accounts = entries[TRANSPORT_ISSUER];
    return accounts ? { ...entries, [TRANSPORT_ISSUER]: accounts.map((a) => a.toUpperCase()) } : entries;
  }

  /** The code a passenger shows at `nowSec`, with its fault. */
  code(spec: TransportSpec, fault: Fault | undefined, nowSec: number): Uint8Array {
    const { issuer, unlisted, stray } = partiesOf();
    if (fault === 'garbage') return Uint8Array.from([INTEROPERABLE, ...randomBytes(200)]);
    if (fault === 'unknown-key') return this.enrol(spec, stray).code(nowSec);
    if (fault === 'unknown-issuer') return this.enrol(spec, unlisted).code(nowSec);
    // An authorisation that ran out an hour before the phone made the code.
    if (fault === 'expired') return this.enrol(spec, issuer, this.startSec - 3_600).code(nowSec);
    const rider = this.rider(spec);
    if (fault === 'stale') return rider.code(nowSec - FAR_SEC);
    if (fault === 'not-yet-valid') return rider.code(nowSec + FAR_SEC);
    if (fault === 'forged') return rider.code(nowSec, newSm2KeyPair().privateKey);
    const code = rider.code(nowSec);
    // The account number's last byte changed after the issuer signed it.
    if (fault === 'tampered') code[145]! ^= 0x01;
    return code;
  }

  private rider(spec: TransportSpec): TransportRider {
    const key = JSON.stringify(spec);
    let rider = this.riders.get(key);
    if (!rider) {
      rider = this.enrol(spec, partiesOf().issuer);
      this.riders.set(key, rider);
    }
    return rider;
  }

  private enrol(spec: TransportSpec, issuer: TransportTestIssuer, authorisedUntil = this.startSec + DAY): TransportRider {
    return issuer.enrol({
      accountNumber: spec.account.toUpperCase(),
      version: spec.version === '81' ? LOCAL : INTEROPERABLE,
      accountType: ACCOUNT_TYPES[spec.category],
      limitFen: spec.limit,
      authorisedUntil,
    });
  }
}
