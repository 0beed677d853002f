import { payloadSwapped } from './forgery.js';
import { command, impostorOf, signedBy, unsigned } from './fleetSigning.js';
import { control, expectStep, hostileCase, SetupFailed, type HostileCase } from './hostileCase.js';
import type { HostileGate } from './hostileGate.js';
import type { HostileWorld } from './hostileWorld.js';

const GROUP = 'commands';

function open(w: HostileWorld, gate: HostileGate = w.a, fields: { exp?: number; nonce?: string } = {}): Record<string, unknown> {
  return command({ type: 'open', gate: gate.gateId, exp: gate.nowSec() + 120, ...fields });
}

/** A genuine `open`: done, and the barrier opens for one passenger, who walks through. */
async function genuineOpen(w: HostileWorld, gate: HostileGate, bytes: Uint8Array): Promise<string> {
  const got = await w.command(gate, bytes);
  if (got !== 'cmd:done:ok') return got;
  if (gate.board.barrier.state() !== 'open') return `${got} + barrier stayed shut`;
  gate.board.passage.pass();
  return got;
}

/*
 * Commands on citygate/v1/gates/{gate}/cmd (docs/sync.md). The prize is
 * `open` (a free passage) and `emergency` (the barrier held open); a refused
 * command must change nothing and answer `refused` with its reason.
 */
export function commandCases(): HostileCase[] {
  return [
    control(GROUP, 'genuine open', 'the fleet opens gate A for one passenger', 'cmd:done:ok', (w) => genuineOpen(w, w.a, w.keys.fleet.sign(open(w)))),
    hostileCase(GROUP, 'unsigned open', 'publishes an open command as plain JSON', 'cmd:refused:malformed', (w) => w.command(w.a, unsigned(open(w)))),
    hostileCase(GROUP, 'unsigned emergency', 'publishes an emergency (barrier held open) as plain JSON', 'cmd:refused:malformed', (w) => w.command(w.a, unsigned(command({ type: 'emergency', gate: w.a.gateId, exp: w.nowSec() + 120 })))),
    hostileCase(GROUP, 'open signed by an issuer key', "signs open with issuer A's key", 'cmd:refused:unknown-key', (w) => w.command(w.a, signedBy(w.keys.a.key, w.keys.a.kid, open(w)))),
    hostileCase(GROUP, 'open signed by an impostor under the fleet kid', 'signs open with his own key under the fleet-ops kid', 'cmd:refused:bad-signature', (w) => w.command(w.a, impostorOf(w.keys.fleet, open(w)))),
    hostileCase(GROUP, 'open signed by a retired fleet key', 'signs open with the fleet-ops key retired yesterday', 'cmd:refused:unknown-key', (w) => w.command(w.a, w.keys.retiredFleet.sign(open(w)))),
    hostileCase(GROUP, 'replayed open', 'records a genuine open off the broker and publishes it again', 'cmd:refused:replayed', async (w) => {
      const bytes = w.keys.fleet.sign(open(w));
      expectStep('the genuine open', await genuineOpen(w, w.a, bytes), 'cmd:done:ok');
      return w.command(w.a, bytes);
    }),
    hostileCase(GROUP, 'open with a new nonce under a genuine signature', "puts a fresh nonce into a used open command, keeping the fleet's signature", 'cmd:refused:bad-signature', async (w) => {
      const bytes = w.keys.fleet.sign(open(w));
      expectStep('the genuine open', await genuineOpen(w, w.a, bytes), 'cmd:done:ok');
      return w.command(w.a, payloadSwapped(bytes, signedBy(w.keys.a.key, w.keys.a.kid, open(w, w.a, { nonce: 'a-fresh-nonce-1234' }))));
    }),
    hostileCase(GROUP, 'expired open', 'publishes a genuine open whose exp passed a minute ago (beyond the 30 s skew)', 'cmd:refused:expired', (w) => w.command(w.a, w.keys.fleet.sign(open(w, w.a, { exp: w.nowSec() - 60 })))),
    hostileCase(GROUP, "another gate's open, replayed here", "takes a genuine open for gate B off the broker and publishes it on gate A's topic", 'cmd:refused:wrong-gate', async (w) => {
      const bytes = w.keys.fleet.sign(open(w, w.b));
      expectStep('the genuine open at gate B', await genuineOpen(w, w.b, bytes), 'cmd:done:ok');
      w.captured.set('open-b', bytes);
      return w.command(w.a, bytes);
    }),
    hostileCase(GROUP, "another gate's open, replayed there", 'publishes the same captured open for gate B on its own topic again', 'cmd:refused:replayed', (w) => {
      const bytes = w.captured.get('open-b');
      if (!bytes) throw new SetupFailed('no captured open for gate B: the case before did not run');
      return w.command(w.b, bytes);
    }),
    hostileCase(GROUP, 'replayed set-mode', 'replays an old set-mode (to metro-exit) after the fleet set the mode back', 'cmd:refused:replayed', async (w) => {
      const toExit = w.keys.fleet.sign(command({ type: 'set-mode', mode: 'metro-exit', gate: w.a.gateId, exp: w.nowSec() + 120 }));
      expectStep('the genuine set-mode metro-exit', await w.command(w.a, toExit), 'cmd:done:ok');
      expectStep('the genuine set-mode back to metro-entry', await w.command(w.a, w.keys.fleet.sign(command({ type: 'set-mode', mode: 'metro-entry', gate: w.a.gateId, exp: w.nowSec() + 120 }))), 'cmd:done:ok');
      return w.command(w.a, toExit);
    }),
  ];
}
