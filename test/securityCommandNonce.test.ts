import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestIssuer } from '../sim/issuer.js';
import { Journal } from '../src/core/journal.js';
import { MIGRATIONS } from '../src/core/journalSchema.js';
import { isSiteShareableKey } from '../src/core/sync/siteSharing.js';
import { FleetClient, type CommandResult } from './support/fleetClient.js';
import { commandPayload, TestFleetKey, type CommandFields } from './support/fleetSigner.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';
import { waitFor } from './support/waitFor.js';
import { brokerForFile, cleanupAfterEach } from './support/cleanups.js';

/*
 * Issue 17, finding 2: a forged site `used` message re-armed a signed fleet
 * command. Command nonces shared the used-credential table with the keys
 * gates of a site share, written with INSERT OR REPLACE, so `cmd:<nonce>` with
 * a short `until` let a captured `open` run again (one signed open, done 4
 * times). Nonces now live in their own table, never shortened, and site
 * sharing writes only keys of the shapes tickets and codes make.
 */

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const fleetKey = new TestFleetKey('ES256');
const broker = brokerForFile();
const defer = cleanupAfterEach();
const REFUSED_KEY = 'site used credential refused: not a key a ticket or code makes';
const IGNORED = 'site used-credential message ignored';

async function syncGate(gateId: string): Promise<SyncGate> {
  const gate = await startSyncGate({ url: broker().url, gateId, site: 'plaza', issuers: [issuer], fleet: [fleetKey] });
  defer(() => gate.dispose());
  await waitFor(() => gate.link.connected(), `${gateId} connected`);
  return gate;
}

async function client(name: string): Promise<FleetClient> {
  const c = await FleetClient.connect(broker().url, name);
  defer(() => c.close());
  return c;
}

function signed(gate: SyncGate, fields: Omit<CommandFields, 'gate' | 'exp'>): Uint8Array {
  return fleetKey.sign(commandPayload({ gate: gate.gateId, exp: gate.nowSec() + 600, ...fields }));
}

async function command(ops: FleetClient, gate: SyncGate, bytes: Uint8Array): Promise<CommandResult> {
  const topic = `citygate/v1/gates/${gate.gateId}/cmd/result`;
  const before = ops.json(topic).length;
  await ops.publish(`citygate/v1/gates/${gate.gateId}/cmd`, bytes);
  await waitFor(() => ops.json(topic).length > before, 'the command result');
  return ops.json<CommandResult>(topic)[before]!;
}

/** A compromised gate of the site publishes `used`; a garbage message after it shows it was handled, fix or not. */
async function forgeUsed(forger: FleetClient, gate: SyncGate, used: { key: string; until: number }[]): Promise<void> {
  const ignored = gate.log.count(IGNORED);
  await forger.publish('citygate/v1/sites/plaza/used', JSON.stringify({ gate: 'PLAZA-EVIL', used }));
  await forger.publish('citygate/v1/sites/plaza/used', 'not json');
  await waitFor(() => gate.log.count(IGNORED) === ignored + 1, 'the forged used message handled');
}

describe('forged site used messages and command nonces (issue 17, finding 2)', () => {
  it('one captured signed open is done once, whatever the site says about its nonce, also after a restart', async () => {
    const ops = await client('fleet-ops');
    await ops.subscribe('citygate/v1/gates/+/cmd/result');
    const forger = await client('plaza-evil');
    let gate = await syncGate('PLAZA-1');
    const opens = () => gate.board.barrier.actions.filter((a) => a.action === 'open').length;
    const opensBefore = opens();

    const captured = signed(gate, { type: 'open', nonce: 'captured-open-1' });
    expect(await command(ops, gate, captured)).toEqual({ nonce: 'captured-open-1', type: 'open', result: 'done', reason: 'ok' });
    expect(opens()).toBe(opensBefore + 1);

    // The proof of the issue, three times: the nonce "used until" a moment from now, the moment let pass, the command again.
    const results: string[] = [];
    for (let round = 1; round <= 3; round++) {
      await forgeUsed(forger, gate, [{ key: 'cmd:captured-open-1', until: gate.board.clock.now() + 200 }]);
      gate.board.clock.advanceTo(gate.board.clock.monotonic() + 5_000);
      const again = await command(ops, gate, captured);
      results.push(`${again.result} ${again.reason}`);
    }
    expect(results).toEqual(['refused replayed', 'refused replayed', 'refused replayed']);
    expect(opens()).toBe(opensBefore + 1);
    expect(gate.log.count(REFUSED_KEY)).toBe(3);
    expect(gate.log.has(REFUSED_KEY, { gate: 'PLAZA-EVIL', refused: 1, key: 'cmd:captured-open-1' })).toBe(true);
    expect(gate.replay.seen('cmd:captured-open-1', gate.board.clock.now())).toBe(false);

    // Nor does it work after a restart, with the forged key sent again before and after it.
    await forgeUsed(forger, gate, [{ key: 'cmd:captured-open-1', until: gate.board.clock.now() + 200 }]);
    const restarted = await gate.restart();
    defer(() => restarted.dispose());
    gate = restarted;
    await waitFor(() => gate.link.connected(), 'PLAZA-1 reconnected');
    await forgeUsed(forger, gate, [{ key: 'cmd:captured-open-1', until: gate.board.clock.now() + 200 }]);
    gate.board.clock.advanceTo(gate.board.clock.monotonic() + 5_000);
    expect(await command(ops, gate, captured)).toMatchObject({ result: 'refused', reason: 'replayed' });
    expect(gate.board.barrier.actions.filter((a) => a.action === 'open')).toHaveLength(0);
  });

  it('a set-mode command is not re-armed either, and the site keys of tickets and codes still go through, the others refused', async () => {
    const ops = await client('fleet-ops-2');
    await ops.subscribe('citygate/v1/gates/+/cmd/result');
    const forger = await client('plaza-evil-2');
    const gate = await syncGate('PLAZA-2');

    const captured = signed(gate, { type: 'set-mode', mode: 'venue', nonce: 'captured-mode-1' });
    expect(await command(ops, gate, captured)).toMatchObject({ result: 'done' });
    gate.gate.setMode('metro-entry');
    const now = gate.board.clock.now();
    const ticketCode = `code:${'A'.repeat(43)}`;
    const good = [
      { key: 'cti:cq.yukuaima:00112233445566778899aabbccddeeff', until: now + 600_000 },
      { key: ticketCode, until: now + 600_000 },
      { key: `ticket:2:cq.yukuaima:0a0b ${ticketCode}`, until: now + 600_000 },
    ];
    const bad = [
      { key: 'cmd:captured-mode-1', until: now + 200 },
      { key: 'CMD:captured-mode-1', until: now + 200 },
      { key: 'anything at all', until: now + 600_000 },
      { key: 'code:short', until: now + 600_000 },
      { key: 'ticket:2:cq.yukuaima:0a0b cmd:captured-mode-1', until: now + 600_000 },
    ];
    await forgeUsed(forger, gate, [...good, ...bad]);
    expect(gate.log.has(REFUSED_KEY, { gate: 'PLAZA-EVIL', refused: bad.length, key: 'cmd:captured-mode-1' })).toBe(true);
    for (const { key } of good) expect(gate.replay.seen(key, gate.board.clock.now())).toBe(true);
    for (const { key } of bad) expect(gate.replay.seen(key, gate.board.clock.now())).toBe(false);
    // What the gate keeps for after a restart: the good keys only.
    const kept = gate.journal.usedCredentials(gate.board.clock.now()).map((u) => u.key);
    expect(kept.sort()).toEqual(good.map((u) => u.key).sort());

    gate.board.clock.advanceTo(gate.board.clock.monotonic() + 5_000);
    expect(await command(ops, gate, captured)).toMatchObject({ result: 'refused', reason: 'replayed' });
    expect(gate.gate.mode()).toBe('metro-entry');
  });

  it('the journal keeps command nonces apart, never shortened, and migrates the ones it held', () => {
    const dir = mkdtempSync(join(tmpdir(), 'citygate-nonce-'));
    try {
      // A journal of the previous schema, with a command nonce among the used credentials.
      const path = join(dir, 'journal.db');
      const old = new Database(path);
      for (let v = 0; v < 3; v++) old.exec(MIGRATIONS[v]!);
      old.pragma('user_version = 3');
      old.prepare("INSERT INTO meta (key, value) VALUES ('gate', 'J-1')").run();
      const insert = old.prepare('INSERT INTO used_credentials (key, until_ms) VALUES (?, ?)');
      insert.run('cmd:old-nonce', 50_000);
      insert.run('cti:x:01', 50_000);
      old.close();

      const journal = Journal.open(path, 'J-1', 'S');
      try {
        expect(journal.usedCredentials(0).map((u) => u.key)).toEqual(['cti:x:01']);
        expect(journal.hasCommandNonce('old-nonce')).toBe(true);
        expect(journal.claimCommandNonce('old-nonce', 60_000)).toBe(false);

        expect(journal.claimCommandNonce('n-1', 10_000)).toBe(true);
        expect(journal.claimCommandNonce('n-1', 5)).toBe(false);
        // The site's table is another: a `cmd:` key written there (as before the fix) reaches no nonce.
        journal.rememberUsedMany([{ key: 'cmd:n-1', until: 1 }]);
        expect(journal.hasCommandNonce('n-1')).toBe(true);
        expect(journal.pruneCommandNonces(9_999)).toBe(0);
        expect(journal.hasCommandNonce('n-1')).toBe(true);
        expect(journal.pruneCommandNonces(10_001)).toBe(1);
        expect(journal.hasCommandNonce('n-1')).toBe(false);
        expect(journal.hasCommandNonce('old-nonce')).toBe(true);
      } finally {
        journal.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('site sharing takes the key shapes the gate makes and nothing else', () => {
    const code = `code:${'x'.repeat(43)}`;
    for (const key of ['cti:cq.yukuaima:00ff', code, `ticket:1:cq.yukuaima:00ff`, `ticket:12:bus%3Aone:0a ${code}`, 'ticket:3:cq.yukuaima:0a cti:cq.yukuaima:0a']) {
      expect(isSiteShareableKey(key), key).toBe(true);
    }
    for (const key of ['cmd:abc', 'cmd:cti:x:00', 'xcti:a:00', 'cti:a:0g', 'cti:a:00\n', 'code:x', `code:${'x'.repeat(44)}`, 'ticket:1:cq:00 cmd:x', 'ticket:x:cq:00', 'holder:a:b:c:d', 'holder:cq.yukuaima:acct-1:1795420800:3', '']) {
      expect(isSiteShareableKey(key), key).toBe(false);
    }
  });
});
