import { randomBytes } from 'node:crypto';
import { TestHolder } from '../../sim/issuer.js';
import { VirtualCard } from '../../sim/virtualCard.js';
import { coseBytes, coseParts, payloadSwapped } from './forgery.js';
import { denyListUpdate, impostorOf, signedBy, unsigned } from './fleetSigning.js';
import { control, hostileCase, SetupFailed, withViolations, type HostileCase } from './hostileCase.js';
import type { HostileWorld } from './hostileWorld.js';

const GROUP = 'deny lists';
const BANNED = 'acct-banned';
/** The seq gate A must still hold after each attack. */
const HELD = 2;

function captured(w: HostileWorld, name: string): Uint8Array {
  const bytes = w.captured.get(name);
  if (!bytes) throw new SetupFailed(`no captured fleet message "${name}": its control did not run`);
  return bytes;
}

/** What an attack on the list must leave as it was: the seq held, and the banned holder refused. */
async function stillListed(w: HostileWorld): Promise<string[]> {
  const violations: string[] = [];
  const seq = w.a.denyList.seq(w.keys.a.id);
  if (seq !== HELD) violations.push(`deny-list seq became ${seq}`);
  w.nextPassenger();
  const banned = await w.tapCode(w.keys.a.issuerCode({ sub: BANNED, iat: w.nowSec() }));
  if (banned !== 'tap:deny-listed') violations.push(`${BANNED} now gets ${banned}`);
  return violations;
}

/** The removal an attacker wants: `acct-banned` off issuer A's list, as the next update. */
function removal(w: HostileWorld): Record<string, unknown> {
  return denyListUpdate({ issuer: w.keys.a.id, seq: HELD + 1, base: HELD, remove: [BANNED], issuedAt: w.nowSec() });
}

async function attack(w: HostileWorld, bytes: Uint8Array, topicIssuer = w.keys.a.id): Promise<string> {
  return withViolations(await w.denyList(topicIssuer, bytes), await stillListed(w));
}

/** Replace `from` by `to` (same length) inside the COSE payload, leaving the signature as it was. */
function payloadEdited(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const parts = coseParts(bytes);
  const payload = Buffer.from(parts.payload);
  const at = payload.indexOf(from);
  if (at < 0 || from.length !== to.length) throw new SetupFailed(`"${from}" not in the payload`);
  payload.write(to, at);
  return coseBytes({ ...parts, payload });
}

/*
 * Deny lists arrive over MQTT signed by the fleet-ops key (docs/sync.md).
 * The genuine history: snapshot seq 1, then delta seq 2 that lists a holder,
 * a card, a code id and a phone. The attacker wants the holder off the list
 * (or the whole list gone); every such update must be ignored and leave the
 * gate as it was.
 */
export function denyListCases(): HostileCase[] {
  const listedCti = randomBytes(16);
  return [
    control(GROUP, 'genuine snapshot', 'the fleet sends snapshot seq 1', 'applied', async (w) => {
      const bytes = w.keys.fleet.sign(denyListUpdate({ issuer: w.keys.a.id, seq: 1, base: 0, add: ['acct-old'], issuedAt: w.nowSec() }));
      w.captured.set('snapshot-1', bytes);
      return w.denyList(w.keys.a.id, bytes);
    }),
    control(GROUP, 'genuine delta', 'the fleet lists a holder, a card, a code id and a phone (seq 2 on 1)', 'applied', async (w) => {
      const add = [BANNED, 'CARD-BANNED', `cti:${listedCti.toString('hex')}`, 'acct-phone-banned'];
      const bytes = w.keys.fleet.sign(denyListUpdate({ issuer: w.keys.a.id, seq: 2, base: 1, add, issuedAt: w.nowSec() }));
      w.captured.set('delta-2', bytes);
      return w.denyList(w.keys.a.id, bytes);
    }),
    control(GROUP, "genuine snapshot of issuer B's list", "the fleet sends issuer B's snapshot seq 5", 'applied', async (w) => {
      const bytes = w.keys.fleet.sign(denyListUpdate({ issuer: w.keys.b.id, seq: 5, base: 0, add: ['b-someone'], issuedAt: w.nowSec() }));
      w.captured.set('b-snapshot-5', bytes);
      return w.denyList(w.keys.b.id, bytes);
    }),
    control(GROUP, 'holder not on the list', "a listed holder's neighbour shows a code", 'tap:ok', (w) => w.tapCode(w.keys.a.issuerCode({ sub: 'acct-not-banned', iat: w.nowSec() }))),
    hostileCase(GROUP, 'deny-listed holder (code)', 'the listed holder shows a fresh genuine code', 'tap:deny-listed', (w) => w.tapCode(w.keys.a.issuerCode({ sub: BANNED, iat: w.nowSec() }))),
    hostileCase(GROUP, 'deny-listed code id (cti)', 'shows a genuine code whose cti the fleet listed', 'tap:deny-listed', (w) => w.tapCode(w.keys.a.issuerCode({ sub: 'acct-cti-holder', iat: w.nowSec(), cti: listedCti }))),
    hostileCase(GROUP, 'deny-listed holder (offline code)', 'the listed phone shows a fresh offline code', 'tap:deny-listed', (w) => {
      const now = w.nowSec();
      return w.tapCode(TestHolder.enrol(w.keys.a, { sub: 'acct-phone-banned', iat: now - 86_400 }).offlineCode(now));
    }),
    hostileCase(GROUP, 'deny-listed card', 'taps the listed card (it still proves its key)', 'tap:deny-listed', (w) => w.tapCard(VirtualCard.issue(w.keys.a, 'CARD-BANNED', { iat: w.nowSec() - 86_400 }))),
    hostileCase(GROUP, 'tampered: removal under a genuine signature', "puts the removal of acct-banned under the genuine delta's header and signature", 'ignored:bad-signature', (w) =>
      attack(w, payloadSwapped(captured(w, 'delta-2'), w.keys.fleet.sign(removal(w)))),
    ),
    hostileCase(GROUP, 'tampered: entry renamed in a genuine update', 'edits acct-banned into acct-bann3d inside the genuine delta', 'ignored:bad-signature', (w) => attack(w, payloadEdited(captured(w, 'delta-2'), BANNED, 'acct-bann3d'))),
    hostileCase(GROUP, 'signed by an impostor under the fleet kid', 'signs the removal with his own key under the fleet-ops kid', 'ignored:bad-signature', (w) => attack(w, impostorOf(w.keys.fleet, removal(w)))),
    hostileCase(GROUP, 'signed by an issuer key', "issuer A's own key signs a snapshot that empties issuer A's list", 'ignored:unknown-key', (w) =>
      attack(w, signedBy(w.keys.a.key, w.keys.a.kid, denyListUpdate({ issuer: w.keys.a.id, seq: 99, base: 0, issuedAt: w.nowSec() }))),
    ),
    hostileCase(GROUP, 'signed by a retired fleet key', 'the removal signed with the fleet-ops key retired yesterday', 'ignored:unknown-key', (w) => attack(w, w.keys.retiredFleet.sign(removal(w)))),
    hostileCase(GROUP, 'unsigned', 'publishes the removal as plain JSON', 'ignored:malformed', (w) => attack(w, unsigned(removal(w)))),
    hostileCase(GROUP, 'rolled back to an older snapshot', 'replays the genuine snapshot seq 1, from before the holder was listed', 'ignored:older-seq', (w) => attack(w, captured(w, 'snapshot-1'))),
    hostileCase(GROUP, 'replayed delta', 'replays the genuine delta seq 2', 'ignored:older-seq', (w) => attack(w, captured(w, 'delta-2'))),
    hostileCase(GROUP, "another issuer's update on this issuer's topic", "replays issuer B's genuine snapshot seq 5 on issuer A's topic", 'ignored:invalid', (w) => attack(w, captured(w, 'b-snapshot-5'))),
    control(GROUP, 'genuine removal', 'the fleet itself removes acct-banned (seq 3 on 2): the message the attacks imitated', 'applied', (w) => w.denyList(w.keys.a.id, w.keys.fleet.sign(removal(w)))),
    control(GROUP, 'holder after the genuine removal', 'the holder taken off the list shows a code', 'tap:ok', (w) => w.tapCode(w.keys.a.issuerCode({ sub: BANNED, iat: w.nowSec() }))),
  ];
}
