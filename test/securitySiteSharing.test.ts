import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFleetCa } from '../sim/fleetCa.js';
import { RecordingLog } from '../sim/recordingLog.js';
import { Journal } from '../src/core/journal.js';
import { ReplayGuard } from '../src/core/replayGuard.js';
import { certificatesIn, SiteSenderCheck, SiteSigner } from '../src/core/sync/siteSignature.js';
import { SiteSharing, type SiteAuthentication } from '../src/core/sync/siteSharing.js';

/*
 * Issue 17, finding 1: the site `used` topic. A compromised gate of the site
 * (or anyone who can publish there) must not burn other passengers' codes:
 * messages count only when signed by the gate they name with a device
 * certificate from the fleet's CA; size, `until` and each sender's share are
 * bounded; a message is one commit.
 */

const NOW = Date.parse('2026-12-06T08:00:00Z');
const DAY = 86_400_000;
let dir: string;
let fleet: TestFleetCa;
let stranger: TestFleetCa;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-site-auth-'));
  fleet = TestFleetCa.make(join(dir, 'fleet'));
  stranger = TestFleetCa.make(join(dir, 'other'), 'other-ca');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const codeKey = () => `code:${randomBytes(32).toString('base64url')}`;

const pem = (path: string) => readFileSync(path, 'utf8');
const validNow = { from: new Date(NOW - DAY), to: new Date(NOW + 365 * DAY) };
/** A gate's certificate from `ca`, valid around NOW, marked for clients. */
const device = (ca: TestFleetCa, gateId: string, validity = validNow) => ca.device(gateId, validity, { clientAuth: true });

function auth(gate: { cert: string; key: string }, ca = fleet, now = () => NOW): SiteAuthentication {
  return { signer: new SiteSigner(pem(gate.cert), pem(gate.key)), check: new SiteSenderCheck(certificatesIn(pem(ca.ca.cert)), now) };
}

function receiver(options: { auth?: SiteAuthentication; now?: () => number } = {}) {
  const journalPath = join(mkdtempSync(join(dir, 'gate-b-')), 'journal.db');
  const journal = Journal.open(journalPath, 'GATE-B', 'site-1');
  const replay = new ReplayGuard();
  const log = new RecordingLog();
  const now = options.now ?? (() => NOW);
  const sharing = new SiteSharing('GATE-B', journal, replay, now, log, options.auth ?? auth(device(fleet, 'GATE-B'), fleet, now));
  return { journal, journalPath, replay, log, sharing, now };
}

function send(sender: SiteAuthentication, gate: string, used: { key: string; until: number }[]): Buffer {
  return Buffer.from(JSON.stringify(sender.signer.envelope(JSON.stringify({ gate, used }))));
}

describe('site sharing between gates with device certificates', () => {
  it("takes a key a gate of the fleet signed, into the replay guard and the journal", () => {
    const b = receiver();
    const a = auth(device(fleet, 'GATE-A'));
    const key = codeKey();
    b.sharing.receive(send(a, 'GATE-A', [{ key, until: NOW + 60_000 }]));
    expect(b.replay.seen(key, NOW)).toBe(true);
    expect(b.journal.usedCredentials(NOW).map((u) => u.key)).toEqual([key]);
    // What a gate sends is what the others take.
    const outgoing = JSON.parse(new SiteSharing('GATE-A', b.journal, new ReplayGuard(), () => NOW, new RecordingLog(), a).outgoing({ key, until: NOW + 1 })) as { v: number; body: string };
    expect(outgoing.v).toBe(2);
    expect(JSON.parse(outgoing.body)).toEqual({ gate: 'GATE-A', used: [{ key, until: NOW + 1 }] });
    b.journal.close();
  });

  it('ignores unsigned messages, certificates of another CA, a gate speaking for another, a changed body and a certificate not valid now', () => {
    const b = receiver();
    const victim = codeKey();
    const until = NOW + 60_000;
    b.sharing.receive(Buffer.from(JSON.stringify({ gate: 'GATE-A', used: [{ key: victim, until }] })));
    expect(b.log.has('site used-credential message ignored: not signed by a gate of the fleet')).toBe(true);

    b.sharing.receive(send(auth(device(stranger, 'GATE-A'), stranger), 'GATE-A', [{ key: victim, until }]));
    expect(b.log.lines.some((line) => line.message === 'site used-credential message ignored: sender not authenticated' && /not issued by the fleet's device CA/.test(String(line.fields.reason)))).toBe(true);

    const a = auth(device(fleet, 'GATE-A'));
    b.sharing.receive(send(a, 'GATE-C', [{ key: victim, until }]));
    expect(b.log.has('site used-credential message ignored: signed by another gate than it names', { gate: 'GATE-C', signedBy: 'GATE-A' })).toBe(true);

    const envelope = a.signer.envelope(JSON.stringify({ gate: 'GATE-A', used: [{ key: codeKey(), until }] }));
    const forged = { ...envelope, body: JSON.stringify({ gate: 'GATE-A', used: [{ key: victim, until }] }) };
    b.sharing.receive(Buffer.from(JSON.stringify(forged)));
    expect(b.log.lines.some((line) => /bad signature for GATE-A/.test(String(line.fields.reason)))).toBe(true);

    const expired = auth(device(fleet, 'GATE-D', { from: new Date(NOW - 30 * DAY), to: new Date(NOW - 20 * DAY) }));
    b.sharing.receive(send(expired, 'GATE-D', [{ key: victim, until }]));
    expect(b.log.lines.some((line) => /certificate of GATE-D is not valid now/.test(String(line.fields.reason)))).toBe(true);

    // The broker's server certificate comes from the same CA, but it is not a gate.
    b.sharing.receive(send(auth(fleet.broker('127.0.0.1', validNow, { serverAuth: true })), '127.0.0.1', [{ key: victim, until }]));
    expect(b.log.lines.some((line) => /not a client certificate/.test(String(line.fields.reason)))).toBe(true);

    expect(b.replay.seen(victim, NOW)).toBe(false);
    expect(b.journal.usedCredentials(NOW)).toEqual([]);
    b.journal.close();
  });

  it("gives each sender a budget of keys, refilled with time, so one gate cannot burn a site's codes wholesale", () => {
    let now = NOW;
    const b = receiver({ now: () => now });
    const a = auth(device(fleet, 'GATE-A'), fleet, () => now);
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const used = Array.from({ length: 100 }, () => ({ key: codeKey(), until: NOW + 600_000 }));
      sent.push(...used.map((u) => u.key));
      b.sharing.receive(send(a, 'GATE-A', used));
    }
    const taken = sent.filter((key) => b.replay.seen(key, now)).length;
    expect(taken).toBe(2_000);
    expect(b.log.has('site used credentials dropped: the sender shares more than a gate can use')).toBe(true);
    // Another gate's share is its own.
    const other = codeKey();
    b.sharing.receive(send(auth(device(fleet, 'GATE-E'), fleet, () => now), 'GATE-E', [{ key: other, until: NOW + 600_000 }]));
    expect(b.replay.seen(other, now)).toBe(true);
    // A minute later the first sender has some budget again: 5 keys a second.
    now += 60_000;
    const later = Array.from({ length: 400 }, () => ({ key: codeKey(), until: NOW + 600_000 }));
    for (let i = 0; i < 400; i += 100) b.sharing.receive(send(a, 'GATE-A', later.slice(i, i + 100)));
    expect(later.filter((u) => b.replay.seen(u.key, now)).length).toBe(60 * 5);
    b.journal.close();
  });

  it("caps how far ahead a shared use reaches, and never shortens a use already held", () => {
    const b = receiver();
    const a = auth(device(fleet, 'GATE-A'));
    const code = codeKey();
    const ticket = 'ticket:1:cq.yukuaima:0a0b';
    b.sharing.receive(send(a, 'GATE-A', [{ key: code, until: NOW + 3650 * DAY }, { key: ticket, until: NOW + 3650 * DAY }]));
    const held = new Map(b.journal.usedCredentials(NOW).map((u) => [u.key, u.until]));
    expect(held.get(code)).toBe(NOW + DAY);
    expect(held.get(ticket)).toBe(NOW + 366 * DAY);
    expect(b.replay.seen(code, NOW + DAY + 1)).toBe(false);

    b.journal.rememberUsedMany([{ key: ticket, until: NOW + 1 }]);
    expect(new Map(b.journal.usedCredentials(NOW).map((u) => [u.key, u.until])).get(ticket)).toBe(NOW + 366 * DAY);
    b.journal.close();
  });

  it("refuses keys nobody's code produces any more: the predictable holder keys of earlier versions", () => {
    const b = receiver();
    const a = auth(device(fleet, 'GATE-A'));
    b.sharing.receive(send(a, 'GATE-A', [{ key: 'holder:cq.yukuaima:alice:1796540000:7', until: NOW + 60_000 }]));
    expect(b.journal.usedCredentials(NOW)).toEqual([]);
    expect(b.log.has('site used credential refused: not a key a ticket or code makes')).toBe(true);
    b.journal.close();
  });

  it('writes a message in one commit and refuses an oversized one before parsing it', () => {
    const b = receiver();
    const a = auth(device(fleet, 'GATE-A'));
    const walBefore = statSync(`${b.journalPath}-wal`).size;
    b.sharing.receive(send(a, 'GATE-A', Array.from({ length: 100 }, () => ({ key: codeKey(), until: NOW + 60_000 }))));
    expect(b.journal.usedCredentials(NOW)).toHaveLength(100);
    // One transaction writes each touched page once; a commit per key wrote at least a page frame per key.
    expect(statSync(`${b.journalPath}-wal`).size - walBefore).toBeLessThan(20 * 4096);

    const huge = Buffer.from(`{"v":2,"body":"${'x'.repeat(200_000)}","cert":"","sig":""}`);
    b.sharing.receive(huge);
    expect(b.log.has('site used-credential message ignored: too large', { bytes: huge.length })).toBe(true);
    b.journal.close();
  });
});

describe('site sharing without device certificates (development)', () => {
  it('takes unsigned messages as before', () => {
    const journalPath = join(mkdtempSync(join(dir, 'dev-')), 'journal.db');
    const journal = Journal.open(journalPath, 'DEV-B', 'site-1');
    const replay = new ReplayGuard();
    const sharing = new SiteSharing('DEV-B', journal, replay, () => NOW, new RecordingLog());
    const key = codeKey();
    sharing.receive(Buffer.from(JSON.stringify({ gate: 'DEV-A', used: [{ key, until: NOW + 60_000 }] })));
    expect(replay.seen(key, NOW)).toBe(true);
    journal.close();
  });
});
