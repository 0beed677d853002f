import { describe, expect, it } from 'vitest';
import { TestIssuer } from '../sim/issuer.js';
import { FleetClient } from './support/fleetClient.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';
import { brokerForFile, cleanupAfterEach } from './support/cleanups.js';

const issuer = new TestIssuer('cq.yukuaima', 'ES256');

const broker = brokerForFile();
const defer = cleanupAfterEach();

async function syncGate(gateId: string, site: string): Promise<SyncGate> {
  const gate = await startSyncGate({ url: broker().url, gateId, site, issuers: [issuer], fleet: [] });
  defer(() => gate.dispose());
  await waitFor(() => gate.link.connected(), `${gateId} connected`);
  return gate;
}

async function reason(gate: SyncGate, code: string): Promise<string> {
  const outcome = await gate.gate.presentCode(code);
  if (outcome.type !== 'tap') throw new Error(`no tap: ${outcome.type}`);
  return outcome.tap.reason;
}

/** Past the double-tap window, so the same code again is a new presentation, not the same tap. */
function afterDoubleTapWindow(gate: SyncGate): void {
  gate.board.clock.advanceTo(gate.board.clock.monotonic() + 4_000);
}

describe('site ticket sharing', () => {
  it('a code used at gate A is refused as replayed at gate B of the same site, and B keeps it across a restart', async () => {
    const watcher = await FleetClient.connect(broker().url, 'site-watch');
    defer(() => watcher.close());
    await watcher.subscribe('citygate/v1/sites/+/used');
    const a = await syncGate('SITE-A', 'park');
    let b = await syncGate('SITE-B', 'park');
    const elsewhere = await syncGate('SITE-C', 'zoo');

    const code = issuer.issuerCode({ sub: 'acct-1', iat: a.nowSec() });
    expect(await reason(a, code)).toBe('ok');
    const shared = await watcher.next<{ gate: string; used: { key: string; until: number }[] }>('citygate/v1/sites/park/used', (m) => m.gate === 'SITE-A', 'A shared the used code');
    expect(shared.used).toHaveLength(1);
    expect(shared.used[0]!.key).toMatch(/^cti:cq\.yukuaima:[0-9a-f]{32}$/);
    await waitFor(() => b.replay.seen(shared.used[0]!.key, b.board.clock.now()), 'B learned the used code');
    expect(await reason(b, code)).toBe('replayed');
    // Another site's gate is not told.
    expect(await reason(elsewhere, code)).toBe('ok');

    const restarted = await b.restart();
    defer(() => restarted.dispose());
    b = restarted;
    afterDoubleTapWindow(b);
    expect(await reason(b, code)).toBe('replayed');
  });

  it('ignores malformed site messages, and offline still refuses its own replays', async () => {
    const watcher = await FleetClient.connect(broker().url, 'site-forger');
    defer(() => watcher.close());
    const b = await syncGate('SITE-D', 'lake');
    for (const junk of ['not json', '{"gate":"X"}', '{"gate":"X","used":[{"key":"","until":1}]}']) await watcher.publish('citygate/v1/sites/lake/used', junk);
    await waitFor(() => b.log.count('site used-credential message ignored') === 3, 'junk ignored');
    expect(b.link.connected()).toBe(true);

    await b.link.stop();
    expect(b.link.connected()).toBe(false);
    const code = issuer.issuerCode({ sub: 'acct-2', iat: b.nowSec() });
    expect(await reason(b, code)).toBe('ok');
    afterDoubleTapWindow(b);
    expect(await reason(b, code)).toBe('replayed');
  });
});
