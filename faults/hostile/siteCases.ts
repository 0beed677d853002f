import { randomBytes } from 'node:crypto';
import { command } from './fleetSigning.js';
import { control, expectStep, hostileCase, type HostileCase } from './hostileCase.js';
import { COMPROMISED_GATE } from './siteDevices.js';
import type { HostileWorld } from './hostileWorld.js';

const GROUP = 'compromised gate';

/** A passenger's fresh issuer code, not shown anywhere yet, and its replay key. */
function victimCode(w: HostileWorld, sub: string): { code: string; key: string } {
  const cti = randomBytes(16);
  return { code: w.keys.a.issuerCode({ sub, iat: w.nowSec(), cti }), key: `cti:${w.keys.a.id}:${cti.toString('hex')}` };
}

function body(gate: string, keys: readonly string[], untilMs: number): string {
  return JSON.stringify({ gate, used: keys.map((key) => ({ key, until: untilMs })) });
}

/*
 * Someone holding one gate's device key and certificate (or only its MQTT
 * rights) publishes on the site's `used` topic to make gate A refuse
 * passengers' codes, or to make a fleet command playable again
 * (docs/security.md). A victim's code must still pass; a command still run once.
 */
export function siteCases(): HostileCase[] {
  const until = (w: HostileWorld) => (w.nowSec() + 3_600) * 1000;
  return [
    control(GROUP, "a code used at gate B, refused at gate A", 'a passenger passes gate B, a friend shows the same code at gate A (signed site sharing works)', 'tap:replayed', async (w) => {
      const { code, key } = victimCode(w, 'acct-site-control');
      expectStep('the code at gate B', await w.tapCode(code, w.b), 'tap:ok');
      await w.learnt(w.a, key);
      return w.tapCode(code);
    }),
    hostileCase(GROUP, "unsigned use of a victim's code", "publishes a victim's code key as used, unsigned", 'tap:ok', async (w) => {
      const { code, key } = victimCode(w, 'acct-site-unsigned');
      await w.siteUsed(body('HOSTILE-B', [key], until(w)));
      return w.tapCode(code);
    }),
    hostileCase(GROUP, 'use signed by the compromised gate in gate B\'s name', "signs a victim's code key with its own genuine device key, naming gate B as the sender", 'tap:ok', async (w) => {
      const { code, key } = victimCode(w, 'acct-site-impersonated');
      await w.siteUsed(JSON.stringify(w.devices.compromised.envelope(body('HOSTILE-B', [key], until(w)))));
      return w.tapCode(code);
    }),
    hostileCase(GROUP, 'use signed with a certificate of another CA', "signs a victim's code key with a certificate naming gate B from a CA of its own", 'tap:ok', async (w) => {
      const { code, key } = victimCode(w, 'acct-site-stranger');
      await w.siteUsed(JSON.stringify(w.devices.stranger.envelope(body('HOSTILE-B', [key], until(w)))));
      return w.tapCode(code);
    }),
    hostileCase(GROUP, "flood of uses under the compromised gate's own name", "signs 2,500 code keys as its own, the victim's last, to burn whatever it can", 'tap:ok', async (w) => {
      const { code, key } = victimCode(w, 'acct-site-flood');
      const filler = Array.from({ length: 2_499 }, () => `cti:${w.keys.a.id}:${randomBytes(16).toString('hex')}`);
      const keys = [...filler, key];
      for (let i = 0; i < keys.length; i += 100) {
        await w.wire.publish('citygate/v1/sites/cq-metro-jiefangbei/used', JSON.stringify(w.devices.compromised.envelope(body(COMPROMISED_GATE, keys.slice(i, i + 100), until(w)))));
      }
      await w.siteUsed('{}');
      return w.tapCode(code);
    }),
    hostileCase(GROUP, 'a captured open re-armed through the site', "after a genuine open, signs a use of its nonce with a short until, then replays the open", 'cmd:refused:replayed', async (w) => {
      const nonce = `site-rearm-${randomBytes(4).toString('hex')}`;
      const bytes = w.keys.fleet.sign(command({ type: 'open', gate: w.a.gateId, exp: w.nowSec() + 120, nonce }));
      const first = await w.command(w.a, bytes);
      expectStep('the genuine open', first, 'cmd:done:ok');
      w.a.board.passage.pass();
      await w.siteUsed(JSON.stringify(w.devices.compromised.envelope(body(COMPROMISED_GATE, [`cmd:${nonce}`], (w.nowSec() + 1) * 1000))));
      return w.command(w.a, bytes);
    }),
  ];
}
