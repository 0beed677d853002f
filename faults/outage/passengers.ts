import { TestIssuer, trustListOf } from '../../sim/issuer.js';
import type { Jwk } from '../../src/core/credentials/trustList.js';
import type { DenyUpdate } from './fleetOps.js';

/** What a passenger shows, and so how the gate must decide. */
export type Plan = 'ok' | 'expired' | 'forged' | 'unknown-issuer' | 'deny-listed' | 'replayed' | 'passback' | 'malformed';

/** The reason the gate must journal for each plan. */
export const EXPECTED_REASON: Record<Plan, string> = {
  ok: 'ok',
  expired: 'expired',
  forged: 'bad-signature',
  'unknown-issuer': 'unknown-issuer',
  'deny-listed': 'deny-listed',
  replayed: 'replayed',
  passback: 'passback',
  malformed: 'malformed',
};

/** A working day's mix: mostly good codes, with the refusals a metro gate sees. */
const MIX: [Plan, number][] = [
  ['ok', 0.86],
  ['expired', 0.03],
  ['forged', 0.015],
  ['unknown-issuer', 0.01],
  ['deny-listed', 0.02],
  ['replayed', 0.02],
  ['passback', 0.03],
  ['malformed', 0.015],
];

const CATEGORY_MIX: [string, number][] = [
  ['adult', 0.75],
  ['senior', 0.12],
  ['student', 0.13],
];

/** Accepted codes and holders remembered for replays and passback, newest last. */
const RECENT_KEPT = 64;
const PASSBACK_WINDOW_SEC = 19 * 60;
/** A replay is shown after the double-tap window (3 s) and while the code is still valid (exp = iat + 120 s). */
const REPLAY_FROM_SEC = 5;
const REPLAY_UNTIL_SEC = 90;

/**
 * The issuers of the city: the city code (ES256) and the metro's own app
 * (EdDSA), an impostor of the city key (forgeries) and an issuer no gate
 * trusts. One instance is shared by every lane of a run.
 */
export class City {
  readonly cityCode = new TestIssuer('cq.yukuaima', 'ES256');
  readonly metroApp = new TestIssuer('cq.metro', 'EdDSA');
  readonly forger = this.cityCode.impostor();
  readonly stranger = new TestIssuer('xx.unknown', 'EdDSA');
  /** Holders fleet ops have revoked: the deny list of the city code. */
  readonly denied = Array.from({ length: 20 }, (_, i) => `acct-revoked-${i + 1}`);

  trustList(fleet: Jwk[]) {
    return trustListOf([this.cityCode, this.metroApp], fleet);
  }

  /** The city code's deny list as a snapshot update, signed the night before service. */
  denySnapshot(issuedAt: number): DenyUpdate {
    return { issuer: this.cityCode.id, seq: 1, base: 0, add: [...this.denied], issuedAt };
  }
}

interface Accepted {
  code: string;
  issuer: TestIssuer;
  subject: string;
  atSec: number;
  /** When the code was last shown: a replay within the double-tap window would be the same tap, not a replay. */
  shownSec: number;
}

/**
 * The passengers of one lane: draws each next passenger from the mix with a
 * seeded generator and makes the code they show. A replay or passback needs
 * an earlier accepted passenger at this lane; without one, the passenger is
 * an ordinary one.
 */
export class Passengers {
  private readonly recent: Accepted[] = [];
  private counter = 0;

  constructor(
    private readonly city: City,
    private readonly lane: string,
    private readonly random: () => number,
  ) {}

  next(nowSec: number): { plan: Plan; code: string; accepted?: Omit<Accepted, 'code' | 'shownSec'> } {
    const plan = this.draw(nowSec);
    const { city } = this;
    switch (plan) {
      case 'expired':
        return { plan, code: this.issuer().issuerCode({ sub: this.subject(), iat: nowSec - 600, category: this.category() }) };
      case 'forged':
        return { plan, code: city.forger.issuerCode({ sub: this.subject(), iat: nowSec, category: this.category() }) };
      case 'unknown-issuer':
        return { plan, code: city.stranger.issuerCode({ sub: this.subject(), iat: nowSec }) };
      case 'deny-listed':
        return { plan, code: city.cityCode.issuerCode({ sub: city.denied[Math.floor(this.random() * city.denied.length)]!, iat: nowSec }) };
      case 'malformed':
        // Each text its own: the same text again within the double-tap window would be the same tap.
        return { plan, code: this.random() < 0.5 ? `CG1:not base45 ${++this.counter}` : `https://shop.example/${++this.counter}` };
      case 'replayed': {
        const earlier = this.replayable(nowSec)!;
        earlier.shownSec = nowSec;
        return { plan, code: earlier.code };
      }
      case 'passback': {
        const earlier = this.passbackable(nowSec)!;
        return { plan, code: earlier.issuer.issuerCode({ sub: earlier.subject, iat: nowSec }) };
      }
      case 'ok': {
        const issuer = this.issuer();
        const subject = this.subject();
        return { plan, code: issuer.issuerCode({ sub: subject, iat: nowSec, category: this.category() }), accepted: { issuer, subject, atSec: nowSec } };
      }
    }
  }

  /** The gate accepted an ordinary passenger: they may come back as a replay or passback. */
  remember(code: string, accepted: Omit<Accepted, 'code' | 'shownSec'>): void {
    this.recent.push({ code, ...accepted, shownSec: accepted.atSec });
    if (this.recent.length > RECENT_KEPT) this.recent.shift();
  }

  private draw(nowSec: number): Plan {
    let roll = this.random();
    let plan: Plan = 'ok';
    for (const [candidate, share] of MIX) {
      if ((roll -= share) < 0) {
        plan = candidate;
        break;
      }
    }
    if (plan === 'replayed' && !this.replayable(nowSec)) return 'ok';
    if (plan === 'passback' && !this.passbackable(nowSec)) return 'ok';
    return plan;
  }

  private replayable(nowSec: number): Accepted | undefined {
    return this.recent.findLast((a) => nowSec - a.shownSec >= REPLAY_FROM_SEC && nowSec - a.atSec <= REPLAY_UNTIL_SEC);
  }

  /** A holder who entered here minutes ago, tries again with a fresh code (metro passback window 20 min). */
  private passbackable(nowSec: number): Accepted | undefined {
    return this.recent.findLast((a) => nowSec - a.atSec >= REPLAY_FROM_SEC && nowSec - a.atSec <= PASSBACK_WINDOW_SEC);
  }

  private issuer(): TestIssuer {
    return this.random() < 0.7 ? this.city.cityCode : this.city.metroApp;
  }

  /** Every ordinary passenger is a holder of their own: no accidental passback. */
  private subject(): string {
    return `acct-${this.lane}-${++this.counter}`;
  }

  private category(): string {
    let roll = this.random();
    for (const [category, share] of CATEGORY_MIX) if ((roll -= share) < 0) return category;
    return 'adult';
  }
}
