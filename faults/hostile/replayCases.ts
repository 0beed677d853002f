import { randomBytes } from 'node:crypto';
import { TestHolder } from '../../sim/issuer.js';
import { reencodedCode } from './forgery.js';
import { control, expectStep, hostileCase, type HostileCase } from './hostileCase.js';
import { SITE, type HostileWorld } from './hostileWorld.js';

const GROUP = 'replayed codes';

/** A fresh issuer code, its replay key, shown once at gate A where it must be accepted. */
async function usedAtA(w: HostileWorld, sub: string, product?: { site: string; entries: number }): Promise<{ code: string; key: string }> {
  const cti = randomBytes(16);
  const code = w.keys.a.issuerCode({ sub, iat: w.nowSec(), cti, ...(product ? { product } : {}) });
  expectStep('the genuine code at gate A', await w.tapCode(code), 'tap:ok');
  return { code, key: `cti:${w.keys.a.id}:${cti.toString('hex')}` };
}

/*
 * The same genuine code shown again: by its owner's friend, or by a
 * screenshot. Within the double-tap window it is the same tap (nothing
 * journaled, no passage); after it, `replayed`, at this gate and, once the
 * site has shared it over MQTT, at every gate of the site.
 */
export function replayCases(): HostileCase[] {
  return [
    control(GROUP, 'genuine code at gate B', 'a fresh code at the second gate of the site', 'tap:ok', (w) => w.tapCode(w.keys.a.issuerCode({ sub: 'acct-b-ok', iat: w.nowSec() }), w.b)),
    hostileCase(GROUP, 'shown again within the double-tap window', 'passes, then hands the phone back over the scanner at once', 'repeat', async (w) => {
      const { code } = await usedAtA(w, 'acct-double');
      return w.tapCode(code);
    }),
    hostileCase(GROUP, 'replayed at the same gate', 'passes, then a friend shows a screenshot of the same code 4 s later', 'tap:replayed', async (w) => {
      const { code } = await usedAtA(w, 'acct-replay-a');
      w.nextPassenger();
      return w.tapCode(code);
    }),
    hostileCase(GROUP, 're-encoded copy within the double-tap window', 'passes, then at once shows the same code re-encoded (other text, same signature) to slip past the double-tap check', 'tap:replayed', async (w) => {
      const { code } = await usedAtA(w, 'acct-reencoded');
      return w.tapCode(reencodedCode(code));
    }),
    hostileCase(GROUP, 'replayed at another gate of the site', 'passes gate A, then a friend shows the same code at gate B', 'tap:replayed', async (w) => {
      const { code, key } = await usedAtA(w, 'acct-replay-b');
      // Site sharing is asynchronous: B is given the time to learn it; if it never does, B's answer shows it.
      await w.learnt(w.b, key);
      return w.tapCode(code, w.b);
    }),
    hostileCase(GROUP, 'single-entry ticket replayed at another gate of the site', 'enters with a one-entry ticket at gate A, a friend uses it at gate B', 'tap:replayed', async (w) => {
      const { code, key } = await usedAtA(w, 'acct-ticket', { site: SITE, entries: 1 });
      await w.learnt(w.b, key);
      return w.tapCode(code, w.b);
    }),
    hostileCase(GROUP, 'offline code replayed at the same gate', 'passes with an offline code, a friend shows it re-encoded (other text, same signature) 4 s later', 'tap:replayed', async (w) => {
      const now = w.nowSec();
      const code = TestHolder.enrol(w.keys.a, { sub: 'acct-phone-replay', iat: now - 86_400 }).offlineCode(now, { counter: 7 });
      expectStep('the genuine offline code at gate A', await w.tapCode(code), 'tap:ok');
      w.nextPassenger();
      return w.tapCode(reencodedCode(code));
    }),
    hostileCase(GROUP, 'offline code replayed at another gate of the site', 'passes gate A with an offline code, a friend shows it at gate B', 'tap:replayed', async (w) => {
      const now = w.nowSec();
      const code = TestHolder.enrol(w.keys.a, { sub: 'acct-phone-replay-b', iat: now - 86_400 }).offlineCode(now, { counter: 3 });
      expectStep('the genuine offline code at gate A', await w.tapCode(code), 'tap:ok');
      await w.learnt(w.b, `holder:${w.keys.a.id}:acct-phone-replay-b:${now}:3`);
      return w.tapCode(code, w.b);
    }),
  ];
}
