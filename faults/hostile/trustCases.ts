import type { TrustListDocument } from '../../src/core/credentials/trustList.js';
import { TestIssuer } from '../../sim/issuer.js';
import { VirtualCard } from '../../sim/virtualCard.js';
import { payloadSwapped } from './forgery.js';
import { fleetOps, impostorOf, signedBy, unsigned } from './fleetSigning.js';
import { control, hostileCase, SetupFailed, withViolations, type HostileCase } from './hostileCase.js';
import { trustDocument } from './hostileKeys.js';
import type { HostileWorld } from './hostileWorld.js';

const GROUP = 'trust-list updates';
/** The trust-list seq gate A must still hold after each attack. */
const HELD = 2;

/** The trust list an attacker wants in force: his own issuer, and his own key among the fleet's. */
function takeover(w: HostileWorld, evil: TestIssuer): Record<string, unknown> {
  const genuine = trustDocument(w.keys);
  const trustList: TrustListDocument = { issuers: [...genuine.issuers, { id: evil.id, keys: [evil.jwk()] }], fleet: [...(genuine.fleet ?? []), fleetOps().jwk()] };
  return { seq: HELD + 1, issuedAt: w.nowSec(), trustList };
}

/** After an attack: the seq held, the attacker's issuer and the retired newcomer still unknown. */
async function unchanged(w: HostileWorld, evil: TestIssuer): Promise<string[]> {
  const violations: string[] = [];
  if (w.a.trust.seq() !== HELD) violations.push(`trust-list seq became ${w.a.trust.seq()}`);
  for (const issuer of [evil, w.keys.newcomer]) {
    w.nextPassenger();
    const got = await w.tapCode(issuer.issuerCode({ sub: 'acct-trust-probe', iat: w.nowSec() }));
    if (got !== 'tap:unknown-issuer') violations.push(`a code of ${issuer.id} now gets ${got}`);
  }
  return violations;
}

async function attack(w: HostileWorld, forge: (evil: TestIssuer) => Uint8Array): Promise<string> {
  const evil = new TestIssuer('evil.transit', 'ES256');
  return withViolations(await w.trustUpdate(forge(evil)), await unchanged(w, evil));
}

/*
 * The trust list (issuers and fleet keys) can be replaced over MQTT by a
 * fleet-signed update (docs/sync.md): the richest prize on the broker. The
 * genuine history: seq 1 adds a newcomer issuer, seq 2 drops it again.
 */
export function trustCases(): HostileCase[] {
  // One newcomer card for the run: the same certificate before and after its issuer is dropped.
  let card: VirtualCard | undefined;
  const newcomerCard = (w: HostileWorld): VirtualCard => (card ??= VirtualCard.issue(w.keys.newcomer, 'CARD-NEWCOMER', { iat: w.nowSec() - 86_400 }));
  return [
    control(GROUP, 'genuine update adding an issuer', 'the fleet sends trust list seq 1 with a newcomer issuer', 'applied', async (w) => {
      const bytes = w.keys.fleet.sign({ seq: 1, issuedAt: w.nowSec(), trustList: trustDocument(w.keys, { newcomer: true }) });
      w.captured.set('trust-1', bytes);
      return w.trustUpdate(bytes);
    }),
    control(GROUP, "the newcomer's code", 'a code of the newcomer issuer', 'tap:ok', (w) => w.tapCode(w.keys.newcomer.issuerCode({ sub: 'acct-newcomer', iat: w.nowSec() }))),
    control(GROUP, "the newcomer's card", 'a card of the newcomer issuer (its certificate is now in the verified cache)', 'tap:ok', (w) => w.tapCard(newcomerCard(w))),
    control(GROUP, 'genuine update dropping the issuer', 'the fleet sends trust list seq 2 without the newcomer', 'applied', (w) => w.trustUpdate(w.keys.fleet.sign({ seq: HELD, issuedAt: w.nowSec(), trustList: trustDocument(w.keys) }))),
    control(GROUP, "the dropped issuer's code", 'a code of the dropped issuer', 'tap:unknown-issuer', (w) => w.tapCode(w.keys.newcomer.issuerCode({ sub: 'acct-newcomer-2', iat: w.nowSec() }))),
    hostileCase(GROUP, "cached card of the dropped issuer", "taps the newcomer's card again: its certificate verified before the issuer was dropped", 'tap:unknown-issuer', (w) => w.tapCard(newcomerCard(w))),
    hostileCase(GROUP, 'unsigned takeover', 'publishes a trust list with his issuer and fleet key as plain JSON', 'ignored:malformed', (w) => attack(w, (evil) => unsigned(takeover(w, evil)))),
    hostileCase(GROUP, 'takeover signed by an issuer key', "signs the takeover with issuer A's key", 'ignored:unknown-key', (w) => attack(w, (evil) => signedBy(w.keys.a.key, w.keys.a.kid, takeover(w, evil)))),
    hostileCase(GROUP, 'takeover signed by an impostor under the fleet kid', 'signs with his own key under the fleet-ops kid', 'ignored:bad-signature', (w) => attack(w, (evil) => impostorOf(w.keys.fleet, takeover(w, evil)))),
    hostileCase(GROUP, 'takeover signed by a retired fleet key', 'signs with the fleet-ops key retired yesterday', 'ignored:unknown-key', (w) => attack(w, (evil) => w.keys.retiredFleet.sign(takeover(w, evil)))),
    hostileCase(GROUP, 'takeover under a genuine signature', "puts the takeover under the header and signature of the fleet's seq 1", 'ignored:bad-signature', (w) =>
      attack(w, (evil) => {
        const genuine = w.captured.get('trust-1');
        if (!genuine) throw new SetupFailed('no captured trust list seq 1');
        return payloadSwapped(genuine, signedBy(w.keys.a.key, w.keys.a.kid, takeover(w, evil)));
      }),
    ),
    hostileCase(GROUP, 'rolled back to the older trust list', 'replays the genuine seq 1, which still trusts the dropped issuer', 'ignored:older-seq', (w) =>
      attack(w, () => {
        const genuine = w.captured.get('trust-1');
        if (!genuine) throw new SetupFailed('no captured trust list seq 1');
        return genuine;
      }),
    ),
  ];
}
