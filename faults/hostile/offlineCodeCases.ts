import { encode } from 'cborg';
import { codeText, coseSign1, makeKeyPair, TestHolder, type TestIssuer } from '../../sim/issuer.js';
import { codeBytes, payloadSwapped, withSignature } from './forgery.js';
import { control, hostileCase, type HostileCase } from './hostileCase.js';

const GROUP = 'holder-bound offline codes';

function enrol(issuer: TestIssuer, sub: string, nowSec: number, claims: { exp?: number } = {}): TestHolder {
  return TestHolder.enrol(issuer, { sub, iat: nowSec - 86_400, ...claims });
}

/*
 * Offline codes (DESIGN.md §2b): the issuer's inner credential binds the
 * phone's key; the phone signs a fresh outer code every 30 s. The attacker
 * has someone's credential (or his own), but not that phone's key.
 */
export function offlineCodeCases(): HostileCase[] {
  return [
    control(GROUP, 'genuine offline code', 'an enrolled phone shows a fresh offline code', 'tap:ok', (w) => {
      const now = w.nowSec();
      return w.tapCode(enrol(w.keys.a, 'acct-phone-ok', now).offlineCode(now));
    }),
    hostileCase(GROUP, "another holder's signature", "wraps the victim's inner credential and signs the outer code with his own phone's key", 'tap:bad-signature', (w) => {
      const now = w.nowSec();
      const victim = enrol(w.keys.a, 'acct-phone-victim', now);
      return w.tapCode(victim.offlineCode(now, { signWith: enrol(w.keys.a, 'acct-phone-thief', now).key }));
    }),
    hostileCase(GROUP, 'no holder signature (empty)', "the victim's inner credential in an outer code with an empty signature", 'tap:bad-signature', (w) => {
      const now = w.nowSec();
      const victim = enrol(w.keys.a, 'acct-phone-nosig', now);
      return w.tapCode(codeText(withSignature(codeBytes(victim.offlineCode(now)), new Uint8Array(0))));
    }),
    hostileCase(GROUP, 'no holder signature (inner credential alone)', "shows the victim's inner credential by itself as a CG1 code", 'tap:malformed', (w) => w.tapCode(codeText(enrol(w.keys.a, 'acct-phone-inner', w.nowSec()).credential))),
    hostileCase(GROUP, 'counter raised after signing', 'takes a code the phone showed and raises its counter to dodge the replay check', 'tap:bad-signature', (w) => {
      const now = w.nowSec();
      const holder = enrol(w.keys.a, 'acct-phone-counter', now);
      const genuine = codeBytes(holder.offlineCode(now, { counter: 1 }));
      const raised = encode(new Map<number, unknown>([[1, holder.credential], [2, now], [3, 2]]));
      return w.tapCode(codeText(payloadSwapped(genuine, coseSign1(makeKeyPair('ES256'), raised))));
    }),
    hostileCase(GROUP, 'stale code (iat too old)', 'a screenshot of an offline code taken 2 minutes ago', 'tap:stale', (w) => {
      const now = w.nowSec();
      return w.tapCode(enrol(w.keys.a, 'acct-phone-stale', now).offlineCode(now - 120));
    }),
    hostileCase(GROUP, 'code generated for later', 'a code the phone was made to generate 5 minutes ahead', 'tap:not-yet-valid', (w) => {
      const now = w.nowSec();
      return w.tapCode(enrol(w.keys.a, 'acct-phone-ahead', now).offlineCode(now + 300));
    }),
    hostileCase(GROUP, 'self-made inner credential', "mints an inner credential for his own phone key with his own key under the issuer's kid", 'tap:bad-signature', (w) => {
      const now = w.nowSec();
      return w.tapCode(enrol(w.keys.a.impostor(), 'acct-phone-selfmade', now).offlineCode(now));
    }),
    hostileCase(GROUP, 'inner credential under a retired key', "an inner credential signed with the issuer's retired key", 'tap:unknown-key', (w) => {
      const now = w.nowSec();
      return w.tapCode(enrol(w.keys.retiredA, 'acct-phone-retired', now).offlineCode(now));
    }),
    hostileCase(GROUP, 'expired inner credential', 'a phone whose credential expired yesterday keeps signing fresh codes', 'tap:expired', (w) => {
      const now = w.nowSec();
      return w.tapCode(enrol(w.keys.a, 'acct-phone-lapsed', now, { exp: now - 86_400 }).offlineCode(now));
    }),
  ];
}
