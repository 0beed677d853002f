import { randomBytes } from 'node:crypto';
import type { ApduResponder } from './virtualCard.js';
import { ScriptedCard, VirtualCard } from './virtualCard.js';
import { TestHolder, TestIssuer } from './issuer.js';
import type { CardPresentation } from './devices.js';
import type { Fault, ProductSpec, ScenarioPassenger } from './scenario.js';
import type { Product } from '../src/core/credentials/credential.js';

const DAY = 86_400;

/**
 * The cards and phones of a scenario's passengers: one card per card number,
 * one enrolled phone per account, so a regular holder presents the same
 * credential every day, as in the field. Faults are made here.
 */
export class Wallets {
  private readonly issuers = new Map<string, TestIssuer>();
  private readonly cards = new Map<string, VirtualCard>();
  private readonly holders = new Map<string, TestHolder>();
  private readonly stranger = new TestIssuer('unknown.issuer');

  constructor(
    trusted: readonly TestIssuer[],
    private readonly startSec: number,
  ) {
    for (const issuer of trusted) this.issuers.set(issuer.id, issuer);
  }

  private issuer(id: string, fault: Fault | undefined): TestIssuer {
    const issuer = this.issuers.get(id);
    if (!issuer) throw new Error(`scenario: issuer ${id} is not among the scenario's issuers`);
    if (fault === 'unknown-issuer') return this.stranger;
    if (fault === 'unknown-key') return new TestIssuer(issuer.id, issuer.key.alg);
    if (fault === 'forged') return issuer.impostor();
    return issuer;
  }

  card(spec: NonNullable<ScenarioPassenger['card']>, fault: Fault | undefined, nowSec: number): { card: ApduResponder; presentation: CardPresentation } {
    if (fault === 'garbage') return { card: new ScriptedCard([Uint8Array.of(0x90)]), presentation: {} };
    if (fault === 'foreign-card') return { card: new ScriptedCard([Uint8Array.of(0x6a, 0x82)]), presentation: {} };
    const issuer = this.issuer(spec.issuer, fault);
    const alg = spec.alg ?? issuer.key.alg;
    const times = timesFor(fault, nowSec, 5 * 365 * DAY);
    if (times || issuer !== this.issuers.get(spec.issuer)) {
      const card = VirtualCard.issue(issuer, spec.number, { ...(times ?? { iat: nowSec - DAY, exp: nowSec + 365 * DAY }), category: spec.category }, alg);
      return { card, presentation: {} };
    }
    const key = `${spec.issuer}\n${spec.number}`;
    let genuine = this.cards.get(key);
    if (!genuine) {
      genuine = VirtualCard.issue(issuer, spec.number, { iat: this.startSec - 30 * DAY, exp: this.startSec + 5 * 365 * DAY, category: spec.category }, alg);
      this.cards.set(key, genuine);
    }
    if (fault === 'cloned') return { card: genuine.clone(), presentation: {} };
    return { card: genuine, presentation: fault === 'removed' ? { removeAfterApdus: 2 } : {} };
  }

  code(spec: NonNullable<ScenarioPassenger['code']>, fault: Fault | undefined, nowSec: number): string {
    const issuer = this.issuer(spec.issuer, fault);
    const product = spec.product ? this.product(spec.product) : undefined;
    const base = { sub: spec.account, category: spec.category, ...(product ? { product } : {}) };
    const times = timesFor(fault, nowSec, 120);
    if (spec.profile === 'issuer' && fault !== 'stale') {
      return issuer.issuerCode({ ...base, cti: randomBytes(16), ...(times ?? { iat: nowSec, exp: nowSec + 120 }) });
    }
    if (times || issuer !== this.issuers.get(spec.issuer)) {
      return TestHolder.enrol(issuer, { ...base, ...(times ?? { iat: nowSec - DAY, exp: nowSec + 30 * DAY }) }).offlineCode(nowSec);
    }
    const key = `${spec.issuer}\n${spec.account}\n${JSON.stringify(spec.product ?? null)}`;
    let holder = this.holders.get(key);
    if (!holder) {
      holder = TestHolder.enrol(issuer, { ...base, iat: this.startSec - DAY, exp: this.startSec + 30 * DAY });
      this.holders.set(key, holder);
    }
    return holder.offlineCode(fault === 'stale' ? nowSec - 300 : nowSec);
  }

  private product(spec: ProductSpec): Partial<Product> {
    const at = (t: string | number | undefined) => (t === undefined ? undefined : typeof t === 'number' ? this.startSec + t : Date.parse(t) / 1000);
    const product: Partial<Product> = {};
    if (spec.site !== undefined) product.site = spec.site;
    if (spec.zone !== undefined) product.zone = spec.zone;
    if (spec.entries !== undefined) product.entries = spec.entries;
    const from = at(spec.from);
    const until = at(spec.until);
    if (from !== undefined) product.from = from;
    if (until !== undefined) product.until = until;
    return product;
  }
}

/** Validity times for the time faults; undefined when the credential should be in force. */
function timesFor(fault: Fault | undefined, nowSec: number, lifetime: number): { iat: number; exp: number; nbf?: number } | undefined {
  if (fault === 'expired') return { iat: nowSec - lifetime - 600, exp: nowSec - 600 };
  if (fault === 'not-yet-valid') return { iat: nowSec, nbf: nowSec + 3600, exp: nowSec + lifetime + 3600 };
  return undefined;
}
