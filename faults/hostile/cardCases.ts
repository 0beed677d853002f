import { TestIssuer } from '../../sim/issuer.js';
import { UidCard } from '../../sim/uidCard.js';
import { VirtualCard } from '../../sim/virtualCard.js';
import { control, expectStep, hostileCase, SetupFailed, type HostileCase } from './hostileCase.js';
import type { HostileWorld } from './hostileWorld.js';
import { RecordedCard, ReplayingClone } from './hostileCards.js';

const GROUP = 'cards';
const PCSC_GROUP = 'cards over pcscd';

function issue(w: HostileWorld, number: string, claims: { exp?: number } = {}, issuer: TestIssuer = w.keys.a): VirtualCard {
  return VirtualCard.issue(issuer, number, { iat: w.nowSec() - 86_400, ...claims });
}

/*
 * CG cards (DESIGN.md §3) on gate A's readers: the sim reader in-process,
 * and the real PC/SC stack (pcscd + vpcd) for the genuine card and its clone.
 * A clone has the certificate (anyone can read it) but not the card's key.
 */
export function cardCases(): HostileCase[] {
  return [
    control(GROUP, 'genuine card', 'taps a genuine CG card', 'tap:ok', (w) => w.tapCard(issue(w, 'CARD-OK'))),
    hostileCase(GROUP, 'cloned card (certificate copied, no private key)', "copies a card's certificate onto a blank card with its own key", 'tap:card-auth-failed', (w) => w.tapCard(issue(w, 'CARD-CLONED').clone())),
    hostileCase(GROUP, 'clone right after the genuine card', 'the owner taps, then the clone is tapped within 3 s (the double-tap window)', 'tap:card-auth-failed', async (w) => {
      const genuine = issue(w, 'CARD-TWIN');
      expectStep('the genuine card', await w.tapCard(genuine), 'tap:ok');
      return w.tapCard(genuine.clone());
    }),
    hostileCase(GROUP, 'clone right before the genuine card', 'the clone is tapped, then the owner taps within 3 s: the clone must not get the owner refused', 'tap:ok', async (w) => {
      const genuine = issue(w, 'CARD-FIRST-CLONE');
      expectStep('the clone', await w.tapCard(genuine.clone()), 'tap:card-auth-failed');
      return w.tapCard(genuine);
    }),
    hostileCase(GROUP, "clone replaying the card's recorded answer", "a skimmer recorded the genuine card's answer to one challenge; the clone plays it back", 'tap:card-auth-failed', async (w) => {
      const genuine = issue(w, 'CARD-SKIMMED');
      const recorder = new RecordedCard(genuine);
      expectStep('the genuine card, recorded', await w.tapCard(recorder), 'tap:ok');
      if (!recorder.lastAuthentication) throw new SetupFailed('the gate never challenged the genuine card');
      w.nextPassenger();
      return w.tapCard(new ReplayingClone(genuine, recorder.lastAuthentication));
    }),
    hostileCase(GROUP, 'self-made certificate', "certifies his own card key with his own key under the issuer's kid", 'tap:bad-signature', (w) => w.tapCard(issue(w, 'CARD-SELFMADE', {}, w.keys.a.impostor()))),
    hostileCase(GROUP, 'card of an unknown issuer', 'a card certified by a made-up issuer', 'tap:unknown-issuer', (w) => w.tapCard(issue(w, 'CARD-EVIL', {}, new TestIssuer('evil.transit', 'ES256')))),
    hostileCase(GROUP, 'expired card', 'a card whose certificate expired an hour ago', 'tap:expired', (w) => w.tapCard(issue(w, 'CARD-EXPIRED', { exp: w.nowSec() - 3_600 }))),
    hostileCase(GROUP, 'UID-only badge at a metro gate', 'taps a MIFARE badge (UID only, trivially cloned) at a gate that is not an access gate', 'tap:card-not-supported', (w) => w.tapCard(new UidCard('04A1B2C3D4E5F6'))),
    control(PCSC_GROUP, 'genuine card over pcscd', 'a genuine CG card on the vpcd reader, through pcsclite and pcscd', 'tap:ok', (w) => w.tapCardPcsc(issue(w, 'CARD-PCSC-OK')), { needs: 'pcsc' }),
    hostileCase(PCSC_GROUP, 'cloned card over pcscd', 'the clone on the vpcd reader, through pcsclite and pcscd', 'tap:card-auth-failed', (w) => w.tapCardPcsc(issue(w, 'CARD-PCSC-CLONED').clone()), { needs: 'pcsc' }),
  ];
}
