import { TrustStore } from '../../src/core/credentials/trustList.js';
import { Decider } from '../../src/core/decider.js';
import { MemoryDenyList } from '../../src/core/denyList.js';
import { ReplayGuard } from '../../src/core/replayGuard.js';
import type { GateSettings } from '../../src/core/settings.js';
import { jwkOf, TestIssuer, trustListOf, type KeyPair } from '../../sim/issuer.js';
import { fixedKeyPair, fixedKid } from './fixedKeys.js';

/*
 * The one gate every fuzz target talks to: its issuers, trust list, fleet
 * keys, deny list and settings, all fixed, so that inputs replay the same way.
 */

/** Wall time of the fuzz gate (2027-01-15), epoch seconds. */
export const NOW = 1_800_000_000;
export const NOW_MS = NOW * 1000;
export const TIME = { nowMs: NOW_MS, clockTrusted: true } as const;

export const GATE_ID = 'fuzz-gate-1';
export const SITE = 'fuzz-site';
export const ZONE = 'z1';
/** A category this gate does not let through, so that the category rule is reachable. */
export const BARRED_CATEGORY = 'child';
export const DENIED_SUBJECT = 'acct-denied';
export const DENIED_CTI = 'cti:0badc0de0badc0de0badc0de0badc0de';
export const ALLOWED_UID = '04A1B2C3';

function issuer(id: string, alg: 'ES256' | 'EdDSA', name: string): TestIssuer {
  return new TestIssuer(id, alg, fixedKid(name), fixedKeyPair(alg, name));
}

export const issuers = {
  es: issuer('cq.yukuaima', 'ES256', 'issuer es'),
  ed: issuer('sc.tianfu', 'EdDSA', 'issuer ed'),
  /** Not in the trust list. */
  stranger: issuer('xx.stranger', 'ES256', 'issuer stranger'),
  /** The trusted issuer id under a kid the trust list does not hold. */
  unknownKid: issuer('cq.yukuaima', 'ES256', 'issuer es, unknown kid'),
  /** The trusted issuer id and kid with another key: a forger. */
  impostor: new TestIssuer('cq.yukuaima', 'ES256', fixedKid('issuer es'), fixedKeyPair('ES256', 'issuer es impostor')),
};

export interface FleetSigner {
  key: KeyPair;
  kid: Uint8Array;
}

export const fleet = {
  es: { key: fixedKeyPair('ES256', 'fleet es'), kid: fixedKid('fleet es') } satisfies FleetSigner,
  ed: { key: fixedKeyPair('EdDSA', 'fleet ed'), kid: fixedKid('fleet ed') } satisfies FleetSigner,
  /** A fleet kid with another key. */
  impostor: { key: fixedKeyPair('ES256', 'fleet impostor'), kid: fixedKid('fleet es') } satisfies FleetSigner,
  /** A key the gate does not know. */
  stranger: { key: fixedKeyPair('ES256', 'fleet stranger'), kid: fixedKid('fleet stranger') } satisfies FleetSigner,
};

export const trustDocument = trustListOf([issuers.es, issuers.ed], [jwkOf(fleet.es.key, fleet.es.kid), jwkOf(fleet.ed.key, fleet.ed.kid)]);
export const trust = TrustStore.fromDocument(trustDocument);

export const settings: GateSettings = {
  gateId: GATE_ID,
  site: SITE,
  zone: ZONE,
  mode: 'venue',
  categories: ['adult', 'senior', 'student', 'disabled', 'staff'],
  fares: { default: 200, byCategory: { senior: 0 } },
  skewSec: 30,
  freshnessSec: 60,
  openTimeoutMs: 8_000,
  doubleTapMs: 3_000,
  apduTimeoutMs: 500,
  cardsWhenClockUntrusted: true,
  timezone: 'Asia/Shanghai',
};

/** A decider in venue mode (product rules apply) with one deny-listed holder, one deny-listed cti and `replayed` already seen. */
export function venueDecider(replayed: readonly { key: string; until: number }[]): Decider {
  const denyList = new MemoryDenyList();
  denyList.add(issuers.es.id, DENIED_SUBJECT);
  denyList.add(issuers.es.id, DENIED_CTI);
  const replay = new ReplayGuard();
  for (const used of replayed) replay.remember(used.key, used.until, NOW_MS);
  return new Decider(trust, settings, denyList, replay);
}

/** An access gate that reads UID cards, with one UID and one CG card number on its allow-list. */
export function accessDecider(cardNumber: string): Decider {
  const access = {
    allow: [
      { issuer: 'uid', subject: ALLOWED_UID },
      { issuer: issuers.es.id, subject: cardNumber },
    ],
    schedules: {},
    visitorIssuers: [],
    uidCards: true,
  };
  return new Decider(trust, { ...settings, mode: 'access', access }, new MemoryDenyList(), new ReplayGuard());
}
