import { randomBytes } from 'node:crypto';
import { encode } from 'cborg';
import { encodeBase45 } from '../../src/core/credentials/base45.js';
import { claimsMap, codeText, coseSign1, makeKeyPair, TestIssuer } from '../../sim/issuer.js';
import { VirtualCard } from '../../sim/virtualCard.js';
import { codeBytes, flipCodeSignatureBit, hmacWithPublicKey, payloadSwapped } from './forgery.js';
import { control, hostileCase, type HostileCase } from './hostileCase.js';

const GROUP = 'issuer-signed codes';

/*
 * City codes (DESIGN.md §2a) shown to gate A's scanner. Which reason is right
 * follows docs/credentials.md's order of checks: the issuer first
 * (unknown-issuer), then the kid among that issuer's keys in force
 * (unknown-key), then the signature with that key and its alg
 * (bad-signature), then the times, then the gate's rules. A forger who
 * invents his own kid is unknown-key; one who borrows the issuer's kid gets
 * as far as the signature: bad-signature.
 */
export function codeCases(): HostileCase[] {
  return [
    control(GROUP, 'genuine code (main key)', "the issuer's app shows a fresh code", 'tap:ok', (w) => w.tapCode(w.keys.a.issuerCode({ sub: 'acct-code-ok', iat: w.nowSec() }))),
    control(GROUP, "genuine code (the issuer's second key)", "a code signed with the issuer's other key in force (EdDSA)", 'tap:ok', (w) => w.tapCode(w.keys.a2.issuerCode({ sub: 'acct-code-ok2', iat: w.nowSec() }))),
    hostileCase(GROUP, 'forged signature (one bit flipped)', 'flips a bit of the signature of a genuine code', 'tap:bad-signature', (w) => w.tapCode(flipCodeSignatureBit(w.keys.a.issuerCode({ sub: 'acct-flip', iat: w.nowSec() })))),
    hostileCase(GROUP, 'claims changed after signing', "puts a senior (free fare) claims set under a genuine adult code's signature", 'tap:bad-signature', (w) => {
      const now = w.nowSec();
      const genuine = codeBytes(w.keys.a.issuerCode({ sub: 'acct-upgrade', iat: now }));
      const senior = codeBytes(w.keys.a.impostor().issuerCode({ sub: 'acct-upgrade', iat: now, category: 'senior' }));
      return w.tapCode(codeText(payloadSwapped(genuine, senior)));
    }),
    hostileCase(GROUP, 'untrusted key under its own kid, claiming a trusted issuer', 'signs a code for the trusted issuer id with his own key and kid', 'tap:unknown-key', (w) =>
      w.tapCode(new TestIssuer(w.keys.a.id, 'ES256').issuerCode({ sub: 'acct-own-kid', iat: w.nowSec() })),
    ),
    hostileCase(GROUP, "untrusted key under the issuer's kid", "signs with his own key and puts the issuer's real kid in the header", 'tap:bad-signature', (w) => w.tapCode(w.keys.a.impostor().issuerCode({ sub: 'acct-impostor', iat: w.nowSec() }))),
    hostileCase(GROUP, 'untrusted key, no kid at all', 'signs with his own key and leaves the kid out', 'tap:unknown-key', (w) => w.tapCode(w.keys.a.impostor().issuerCode({ sub: 'acct-no-kid', iat: w.nowSec() }, { kid: undefined }))),
    hostileCase(GROUP, 'unknown issuer', 'makes up an issuer and signs its codes', 'tap:unknown-issuer', (w) => w.tapCode(new TestIssuer('evil.transit', 'ES256').issuerCode({ sub: 'acct-evil', iat: w.nowSec() }))),
    hostileCase(GROUP, 'issuer id differing only in case', "claims issuer CQ.YUKUAIMA with the real issuer's kid", 'tap:unknown-issuer', (w) =>
      w.tapCode(new TestIssuer(w.keys.a.id.toUpperCase(), 'ES256', w.keys.a.kid).issuerCode({ sub: 'acct-case', iat: w.nowSec() })),
    ),
    hostileCase(GROUP, "swapped kid: the issuer's other key", "relabels a genuine code with the kid of the issuer's other key in force", 'tap:bad-signature', (w) =>
      w.tapCode(w.keys.a.issuerCode({ sub: 'acct-swap-a2', iat: w.nowSec() }, { kid: w.keys.a2.kid })),
    ),
    hostileCase(GROUP, "swapped kid: another issuer's key", "a code claiming issuer A under issuer B's kid", 'tap:unknown-key', (w) => w.tapCode(w.keys.a.issuerCode({ sub: 'acct-swap-b', iat: w.nowSec() }, { kid: w.keys.b.kid }))),
    hostileCase(GROUP, 'a trusted issuer minting for another', "issuer B's own key and kid sign a code that claims issuer A", 'tap:unknown-key', (w) => {
      const now = w.nowSec();
      return w.tapCode(codeText(w.keys.b.sign({ iss: w.keys.a.id, sub: 'acct-b-for-a', iat: now, exp: now + 120, cti: randomBytes(16), category: 'adult' })));
    }),
    hostileCase(GROUP, 'key used after its JWK exp', "a code signed with the issuer's retired key (leaked after retirement)", 'tap:unknown-key', (w) => w.tapCode(w.keys.retiredA.issuerCode({ sub: 'acct-retired', iat: w.nowSec() }))),
    hostileCase(GROUP, 'key used before its JWK nbf', 'a code signed with a key announced for next month', 'tap:unknown-key', (w) => w.tapCode(w.keys.futureA.issuerCode({ sub: 'acct-future-key', iat: w.nowSec() }))),
    hostileCase(GROUP, "alg confusion: EdDSA under the issuer's ES256 kid", "signs with his own Ed25519 key, header alg EdDSA and the issuer's ES256 kid", 'tap:bad-signature', (w) => {
      const now = w.nowSec();
      const claims = encode(claimsMap({ iss: w.keys.a.id, sub: 'acct-alg-eddsa', iat: now, exp: now + 120, cti: randomBytes(16), category: 'adult' }));
      return w.tapCode(codeText(coseSign1(makeKeyPair('EdDSA'), claims, { kid: w.keys.a.kid })));
    }),
    hostileCase(GROUP, 'alg confusion: HS256 keyed with the public key', "header alg HS256 (5) and an HMAC keyed with the issuer's public key from the trust list", 'tap:malformed', (w) => {
      const now = w.nowSec();
      const claims = encode(claimsMap({ iss: w.keys.a.id, sub: 'acct-alg-hmac', iat: now, exp: now + 120, cti: randomBytes(16), category: 'adult' }));
      return w.tapCode(codeText(hmacWithPublicKey(w.keys.a.key.publicKey, w.keys.a.kid, claims)));
    }),
    hostileCase(GROUP, 'a huge code', 'holds up a 6,000-character CG1 text (more than any QR code holds)', 'tap:malformed', (w) => w.tapCode(`CG1:${encodeBase45(randomBytes(4_000))}`)),
    hostileCase(GROUP, 'a card certificate shown as a QR code', "renders a CG card's certificate (public, copied by any reader) as a CG1 code", 'tap:malformed', (w) =>
      w.tapCode(codeText(VirtualCard.issue(w.keys.a, 'CARD-AS-QR', { iat: w.nowSec() - 86_400 }).certificate)),
    ),
    hostileCase(GROUP, 'expired code', 'a screenshot of a code that expired 5 minutes ago', 'tap:expired', (w) => {
      const now = w.nowSec();
      return w.tapCode(w.keys.a.issuerCode({ sub: 'acct-expired', iat: now - 600, exp: now - 300 }));
    }),
    hostileCase(GROUP, 'future code (iat ahead)', 'a code issued 10 minutes in the future, made ahead of time', 'tap:not-yet-valid', (w) => {
      const now = w.nowSec();
      return w.tapCode(w.keys.a.issuerCode({ sub: 'acct-future', iat: now + 600, exp: now + 720 }));
    }),
    hostileCase(GROUP, 'future code (nbf ahead)', 'a code whose nbf is 10 minutes ahead', 'tap:not-yet-valid', (w) => {
      const now = w.nowSec();
      return w.tapCode(w.keys.a.issuerCode({ sub: 'acct-nbf', iat: now, nbf: now + 600, exp: now + 900 }));
    }),
    hostileCase(GROUP, 'ticket for another site', "a genuine ticket for another park's gates", 'tap:wrong-site', (w) =>
      w.tapCode(w.keys.a.issuerCode({ sub: 'acct-site', iat: w.nowSec(), product: { site: 'another-park', entries: 1 } })),
    ),
    hostileCase(GROUP, 'ticket outside its window', "yesterday's day ticket", 'tap:outside-window', (w) => {
      const now = w.nowSec();
      return w.tapCode(w.keys.a.issuerCode({ sub: 'acct-window', iat: now, product: { site: 'cq-metro-jiefangbei', from: now - 2 * 86_400, until: now - 86_400 } }));
    }),
    hostileCase(GROUP, 'ticket with no entries left', 'a genuine ticket whose product allows 0 entries', 'tap:entries-used', (w) =>
      w.tapCode(w.keys.a.issuerCode({ sub: 'acct-entries', iat: w.nowSec(), product: { entries: 0 } })),
    ),
  ];
}
