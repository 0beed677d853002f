import { TestHolder } from '../../sim/issuer.js';
import { VirtualCard } from '../../sim/virtualCard.js';
import { control, hostileCase, type HostileCase } from './hostileCase.js';
import type { HostileWorld } from './hostileWorld.js';

const GROUP = 'untrusted clock';

/** Run `present` while gate A's wall clock is not trusted (no RTC, no NTP yet). */
async function whileUntrusted(w: HostileWorld, present: () => Promise<string>): Promise<string> {
  w.a.board.clock.setTrusted(false);
  try {
    return await present();
  } finally {
    w.a.board.clock.setTrusted(true);
  }
}

/*
 * A gate that cannot trust its clock cannot tell an expired code from a
 * fresh one: codes are refused with `clock-untrusted`; cards, which prove
 * themselves by a challenge, keep working where the config says so (it does
 * here: cardsWhenClockUntrusted).
 */
export function clockCases(): HostileCase[] {
  return [
    hostileCase(GROUP, 'issuer code on an untrusted clock', 'shows a code (fresh or not) while the gate has no trusted time', 'tap:clock-untrusted', (w) =>
      whileUntrusted(w, () => w.tapCode(w.keys.a.issuerCode({ sub: 'acct-clock', iat: w.nowSec() }))),
    ),
    hostileCase(GROUP, 'offline code on an untrusted clock', 'shows an offline code while the gate has no trusted time', 'tap:clock-untrusted', (w) =>
      whileUntrusted(w, () => {
        const now = w.nowSec();
        return w.tapCode(TestHolder.enrol(w.keys.a, { sub: 'acct-clock-phone', iat: now - 86_400 }).offlineCode(now));
      }),
    ),
    control(GROUP, 'card on an untrusted clock', 'taps a genuine card while the gate has no trusted time (allowed by config)', 'tap:ok', (w) =>
      whileUntrusted(w, () => w.tapCard(VirtualCard.issue(w.keys.a, 'CARD-CLOCK', { iat: w.nowSec() - 86_400 }))),
    ),
    control(GROUP, 'code once the clock is trusted again', 'a fresh code after time is trusted again', 'tap:ok', (w) => w.tapCode(w.keys.a.issuerCode({ sub: 'acct-clock-back', iat: w.nowSec() }))),
  ];
}
