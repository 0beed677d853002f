import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerFleetCommands } from '../provisioning/fleet/commands.js';
import { fleetCmd } from '../provisioning/fleet/fleetCmd.js';
import { fleetDeny } from '../provisioning/fleet/fleetDeny.js';
import { fleetInit } from '../provisioning/fleet/fleetInit.js';
import { loadFleetKey, PUBLIC_KEY_FILE } from '../provisioning/fleet/fleetKey.js';
import { signFleetMessage } from '../provisioning/fleet/fleetSigner.js';
import { fleetTrust } from '../provisioning/fleet/fleetTrust.js';
import { fleetWatch } from '../provisioning/fleet/fleetWatch.js';
import { runCli } from '../src/app/cli.js';
import { InputError } from '../src/app/settingsSchema.js';
import { TrustStore, type Jwk } from '../src/core/credentials/trustList.js';
import { openDenyListUpdate } from '../src/core/sync/denyListMessage.js';
import { openFleetCommand } from '../src/core/sync/fleetCommand.js';
import { FleetMessageError } from '../src/core/sync/fleetMessage.js';
import { openTrustUpdate } from '../src/core/sync/trustUpdate.js';
import { Captured } from './support/capturedOutput.js';
import { Mosquitto } from './support/mosquitto.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';

const root = mkdtempSync(join(tmpdir(), 'citygate-fleet-'));
let broker: Mosquitto;
beforeAll(async () => {
  broker = await Mosquitto.start();
});
afterAll(async () => {
  await broker.stop();
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
function freshDir(): string {
  return join(root, `ops-${++dirs}`);
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const ISSUERS = [new TestIssuer('cq.yukuaima'), new TestIssuer('sc.tianfu', 'EdDSA')];

/**
 * A fleet-ops directory with a key, which has recorded the gates' trust list
 * (issuers cq.yukuaima and sc.tianfu) as a hand-over would; returns the gates'
 * view of it (a trust store with that fleet key).
 */
async function initDir(alg: 'ES256' | 'EdDSA' = 'ES256', recordTrust = true): Promise<{ dir: string; jwk: Jwk; trust: TrustStore }> {
  const dir = freshDir();
  const output = new Captured();
  expect(fleetInit({ dir, alg }, output)).toBe(0);
  const jwk = JSON.parse(output.stdout[0]!) as Jwk;
  if (!recordTrust) return { dir, jwk, trust: TrustStore.fromDocument({ issuers: [], fleet: [jwk] }) };
  const file = join(dir, 'trust.json');
  writeFileSync(file, JSON.stringify({ ...trustListOf(ISSUERS), fleet: [jwk] }));
  expect(await fleetTrust({ dir, file, print: true, commit: true }, new Captured())).toBe(0);
  return { dir, jwk, trust: TrustStore.fromDocument({ issuers: [], fleet: [jwk] }) };
}

/** Everything published under `filter`, in arrival order; what the broker retained from earlier tests only when asked for. */
async function listen(filter: string, retained = false): Promise<{ client: MqttClient; messages: { topic: string; body: Buffer; retain: boolean }[] }> {
  const client = await connectAsync(broker.url, { clientId: `listener-${Math.random().toString(16).slice(2)}` });
  const messages: { topic: string; body: Buffer; retain: boolean }[] = [];
  client.on('message', (topic, body, packet) => (retained || !packet.retain) && messages.push({ topic, body, retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, messages };
}

const NOW = () => Math.floor(Date.now() / 1000);

describe('fleet init', () => {
  it('writes a private key only its owner reads and the public JWK it prints', async () => {
    const { dir, jwk } = await initDir('EdDSA');
    expect(jwk).toMatchObject({ alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519' });
    expect(jwk).not.toHaveProperty('d');
    expect(JSON.parse(readFileSync(join(dir, PUBLIC_KEY_FILE), 'utf8'))).toEqual(jwk);
    expect(statSync(join(dir, 'fleet-key.json')).mode & 0o777).toBe(0o600);
    expect(loadFleetKey(dir).kid).toEqual(Buffer.from(jwk.kid, 'base64url'));
  });

  it('refuses to replace a key unless forced', async () => {
    const { dir, jwk } = await initDir();
    const keyText = readFileSync(join(dir, 'fleet-key.json'), 'utf8');
    expect(() => fleetInit({ dir }, new Captured())).toThrow(/exists.*--force/);
    expect(readFileSync(join(dir, 'fleet-key.json'), 'utf8')).toBe(keyText);
    const output = new Captured();
    expect(fleetInit({ dir, force: true }, output)).toBe(0);
    expect((JSON.parse(output.stdout[0]!) as Jwk).kid).not.toBe(jwk.kid);
  });

  it('signs messages the gates verify, with either algorithm; a changed byte fails', async () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const { dir, trust } = await initDir(alg);
      const signed = signFleetMessage(loadFleetKey(dir), { issuer: 'cq.yukuaima', seq: 1, base: 0, add: ['a'], remove: [], issuedAt: NOW() });
      expect(signed[0]).toBe(0xd2); // tag 18
      expect(openDenyListUpdate(signed, 'cq.yukuaima', trust, NOW())).toMatchObject({ seq: 1, base: 0, add: ['a'] });
      const tampered = Uint8Array.from(signed);
      tampered[tampered.length - 70] ^= 1;
      expect(() => openDenyListUpdate(tampered, 'cq.yukuaima', trust, NOW())).toThrow(FleetMessageError);
    }
  });
});

describe('fleet deny', () => {
  it('publishes the first list whole, then deltas with seq = held + 1 on base = held, each followed by the whole list retained', async () => {
    const { dir, trust } = await initDir();
    const { client, messages } = await listen('citygate/v1/denylist/#');
    const deny = (options: object) => fleetDeny({ dir, broker: broker.url, issuer: 'cq.yukuaima', ...options }, new Captured());
    try {
      expect(await deny({ add: ['card-2', 'card-1', 'cti:0a1b'] })).toBe(0);
      expect(await deny({ add: ['card-3'], remove: ['card-1'] })).toBe(0);
      const unchanged = new Captured();
      expect(await fleetDeny({ dir, broker: broker.url, issuer: 'cq.yukuaima', add: ['card-2'], remove: ['never-listed'] }, unchanged)).toBe(0);
      expect(JSON.parse(unchanged.stdout[0]!)).toMatchObject({ seq: 2, messages: [], alreadyListed: 1, notListed: 1 });
      expect(await deny({ snapshot: true })).toBe(0);
      await until('four messages', () => messages.length === 4);
      const updates = messages.map((m) => {
        expect(m.topic).toBe('citygate/v1/denylist/cq%2Eyukuaima');
        return openDenyListUpdate(new Uint8Array(m.body), 'cq.yukuaima', trust, NOW());
      });
      expect(updates.map(({ seq, base, add, remove }) => ({ seq, base, add, remove }))).toEqual([
        { seq: 1, base: 0, add: ['card-1', 'card-2', 'cti:0a1b'], remove: [] },
        { seq: 2, base: 1, add: ['card-3'], remove: ['card-1'] },
        { seq: 2, base: 0, add: ['card-2', 'card-3', 'cti:0a1b'], remove: [] },
        // Without changes, the snapshot repeats the held seq: a resync answer that gates already there ignore.
        { seq: 2, base: 0, add: ['card-2', 'card-3', 'cti:0a1b'], remove: [] },
      ]);
    } finally {
      await client.endAsync();
    }
    // Subscribed only now, as a gate that connects later: the whole list at the latest seq is retained.
    const late = await listen('citygate/v1/denylist/cq%2Eyukuaima', true);
    try {
      await until('the retained snapshot', () => late.messages.length === 1);
      expect(late.messages[0]!.retain).toBe(true);
      expect(openDenyListUpdate(new Uint8Array(late.messages[0]!.body), 'cq.yukuaima', trust, NOW())).toMatchObject({ seq: 2, base: 0, add: ['card-2', 'card-3', 'cti:0a1b'] });
    } finally {
      await late.client.endAsync();
    }
  });

  it('splits a 250,000-entry snapshot into parts of at most 100,000, each signed', async () => {
    const { dir, trust } = await initDir('EdDSA');
    const csv = join(dir, 'denied.csv');
    const entries = Array.from({ length: 250_000 }, (_, i) => `acct-${String(i).padStart(7, '0')}`);
    writeFileSync(csv, `subject,reason\n${entries.map((e) => `${e},lost`).join('\n')}\n`);
    const { client, messages } = await listen('citygate/v1/denylist/sc%2Etianfu');
    try {
      expect(await fleetDeny({ dir, broker: broker.url, issuer: 'sc.tianfu', csv: [csv], snapshot: true }, new Captured())).toBe(0);
      await until('three parts', () => messages.length === 3);
      const parts = messages.map((m) => openDenyListUpdate(new Uint8Array(m.body), 'sc.tianfu', trust, NOW()));
      expect(parts.map((p) => ({ seq: p.seq, base: p.base, part: p.part, size: p.add.length }))).toEqual([
        { seq: 1, base: 0, part: { index: 1, count: 3 }, size: 100_000 },
        { seq: 1, base: 0, part: { index: 2, count: 3 }, size: 100_000 },
        { seq: 1, base: 0, part: { index: 3, count: 3 }, size: 50_000 },
      ]);
      expect(parts.flatMap((p) => p.add)).toEqual(entries);
    } finally {
      await client.endAsync();
    }
  });

  it('prints the signed messages with --print, recorded only with --commit; a delta above 100,000 entries becomes consecutive deltas', async () => {
    const { dir, trust } = await initDir();
    const print = async (options: object): Promise<{ lines: { topic: string; retain: boolean; payload: string }[]; summary: Record<string, unknown> }> => {
      const output = new Captured();
      expect(await fleetDeny({ dir, print: true, issuer: 'cq.yukuaima', ...options }, output)).toBe(0);
      return { lines: output.stdout.map((line) => JSON.parse(line) as { topic: string; retain: boolean; payload: string }), summary: JSON.parse(output.stderr.at(-1)!) as Record<string, unknown> };
    };
    const open = (payload: string) => openDenyListUpdate(Buffer.from(payload, 'base64'), 'cq.yukuaima', trust, NOW());
    expect((await print({ add: ['card-0'], commit: true })).summary).toMatchObject({ seq: 1, entries: 1 });

    const entries = Array.from({ length: 120_000 }, (_, i) => `cti:${i.toString(16).padStart(8, '0')}`);
    const { lines, summary } = await print({ add: entries, commit: true });
    expect(summary).toMatchObject({ issuer: 'cq.yukuaima', seq: 3, entries: 120_001 });
    expect(lines.every((m) => m.topic === 'citygate/v1/denylist/cq%2Eyukuaima')).toBe(true);
    // Deltas are not retained; the list no longer fits one message, so the snapshot retained at seq 1 is cleared (an empty retained message).
    expect(lines.map((m) => [m.retain, m.payload === '' ? 'clear' : open(m.payload).seq])).toEqual([
      [false, 2],
      [false, 3],
      [true, 'clear'],
    ]);
    expect(lines.slice(0, 2).map((m) => open(m.payload)).map((u) => [u.seq, u.base, u.add.length])).toEqual([
      [2, 1, 100_000],
      [3, 2, 20_000],
    ]);
  });

  it('keeps what the broker did not acknowledge and sends it first next time (exit 2 meanwhile)', async () => {
    const { dir, trust } = await initDir();
    const down = new Captured();
    expect(await fleetDeny({ dir, broker: 'mqtt://127.0.0.1:1', issuer: 'cq.yukuaima', add: ['card-9'], timeout: 2 }, down)).toBe(2);
    expect(down.stderr.join('\n')).toMatch(/127\.0\.0\.1:1.*1 signed message\(s\) stay queued/);
    const { client, messages } = await listen('citygate/v1/denylist/cq%2Eyukuaima');
    try {
      expect(await fleetDeny({ dir, broker: broker.url, issuer: 'cq.yukuaima', remove: ['card-9'] }, new Captured())).toBe(0);
      await until('both updates and the list after them', () => messages.length === 3);
      const updates = messages.map((m) => openDenyListUpdate(new Uint8Array(m.body), 'cq.yukuaima', trust, NOW()));
      expect(updates.map(({ seq, base, add, remove }) => ({ seq, base, add, remove }))).toEqual([
        { seq: 1, base: 0, add: ['card-9'], remove: [] },
        { seq: 2, base: 1, add: [], remove: ['card-9'] },
        { seq: 2, base: 0, add: [], remove: [] },
      ]);
    } finally {
      await client.endAsync();
    }
  });

  it('refuses bad input with a message naming it', async () => {
    const { dir } = await initDir();
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'subject\ncard-1\n"unclosed\n');
    const cases: [object, RegExp][] = [
      [{ add: [''] }, /--add "": empty entry/],
      [{ add: ['cti:XYZ'] }, /a cti entry is cti:<lower-case hex>/],
      [{ add: ['cti:AB'] }, /lower-case \(cti:ab\)/],
      [{ add: [' card'] }, /leading or trailing spaces/],
      [{ add: ['card-1'], remove: ['card-1'] }, /both added and removed/],
      [{}, /nothing to publish/],
      [{ csv: [csv] }, /bad\.csv:3: unbalanced quotes/],
      [{ csv: [join(dir, 'missing.csv')] }, /cannot read .*missing\.csv: ENOENT/],
      [{ issuer: 'a/b', add: ['x'] }, /--issuer "a\/b" is not an issuer id/],
      [{ broker: undefined, add: ['x'] }, /give --broker URL to publish, or --print/],
      [{ broker: 'localhost:1883', add: ['x'] }, /not a broker URL/],
      [{ broker: 'http://ops:s3cret@localhost:1883', add: ['x'] }, /^--broker "http:\/\/\*\*\*@localhost:1883" is not a broker URL/],
      [{ print: true, commit: undefined, add: ['x'] }, /--broker and --print exclude each other/],
      [{ commit: true, add: ['x'] }, /--commit goes with --print/],
      [{ cert: join(dir, 'c.pem'), add: ['x'] }, /--cert and --key go together/],
      [{ ca: join(dir, 'ca.pem'), add: ['x'] }, /is not a TLS URL: use mqtts:\/\//],
      [{ broker: 'mqtts://127.0.0.1:1', ca: join(dir, 'no-ca.pem'), add: ['x'] }, /cannot read CA certificate .*no-ca\.pem: ENOENT/],
      [{ dir: join(root, 'no-such-dir'), add: ['x'] }, /cannot read the fleet-ops key .*run "citygate fleet init/],
    ];
    for (const [options, message] of cases) {
      await expect(fleetDeny({ dir, broker: broker.url, issuer: 'cq.yukuaima', ...options }, new Captured())).rejects.toThrow(message);
    }
    await expect(fleetDeny({ dir, broker: broker.url, issuer: 'cq.yukuaima' }, new Captured())).rejects.toBeInstanceOf(InputError);
  });
});

describe('fleet trust', () => {
  it('publishes the trust list retained with a rising seq, signed for the gates', async () => {
    const { dir, jwk, trust } = await initDir('ES256', false);
    const file = join(dir, 'trust.json');
    writeFileSync(file, JSON.stringify({ ...trustListOf([new TestIssuer('cq.yukuaima')]), fleet: [jwk] }));
    expect(await fleetTrust({ dir, broker: broker.url, file }, new Captured())).toBe(0);
    expect(await fleetTrust({ dir, broker: broker.url, file }, new Captured())).toBe(0);
    // Subscribed only now: what arrives is the retained message, the latest.
    const { client, messages } = await listen('citygate/v1/trust', true);
    try {
      await until('the retained trust list', () => messages.length === 1);
      expect(messages[0]!.retain).toBe(true);
      const update = openTrustUpdate(new Uint8Array(messages[0]!.body), trust, NOW());
      expect(update.seq).toBe(2);
      expect(update.trustList.issuers.map((i) => i.id)).toEqual(['cq.yukuaima']);
      expect(update.trustList.fleet).toEqual([jwk]);
    } finally {
      await client.endAsync();
    }
  });

  it('refuses a trust list the gates could not use', async () => {
    const { dir, jwk } = await initDir();
    const write = (name: string, body: unknown): string => {
      const path = join(dir, name);
      writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
      return path;
    };
    const cases: [string, RegExp][] = [
      [write('not-json.json', '{'), /not-json\.json is not JSON/],
      [write('no-issuers.json', { fleet: [jwk] }), /no-issuers\.json: issuers/],
      [write('no-fleet.json', trustListOf([new TestIssuer('cq.yukuaima')])), /"fleet" is empty/],
      [write('bad-key.json', { issuers: [], fleet: [{ ...jwk, x: 'AAAA' }] }), /bad-key\.json: trust list: fleet/],
    ];
    for (const [file, message] of cases) {
      await expect(fleetTrust({ dir, broker: broker.url, file }, new Captured())).rejects.toThrow(message);
    }
  });
});

describe('fleet cmd', () => {
  /** A gate's command handler, as far as the wire goes: verify, answer with the nonce. */
  async function responder(gate: string, trust: TrustStore, answer: (type: string) => 'done' | 'refused'): Promise<MqttClient> {
    const client = await connectAsync(broker.url, { clientId: `responder-${gate}` });
    client.on('message', (_topic, body) => {
      const command = openFleetCommand(new Uint8Array(body), trust, NOW());
      expect(command.gate).toBe(gate);
      expect(command.exp).toBeGreaterThan(NOW());
      const result = (nonce: string) => JSON.stringify({ nonce, type: command.type, result: answer(command.type), ...(answer(command.type) === 'refused' ? { reason: 'mode-locked' } : {}) });
      // Another command's result on the same topic must not be taken for this one.
      client.publish(`citygate/v1/gates/${gate}/cmd/result`, JSON.stringify({ nonce: 'someone-elses-nonce', type: command.type, result: 'refused' }), { qos: 1 });
      client.publish(`citygate/v1/gates/${gate}/cmd/result`, result(command.nonce), { qos: 1 });
    });
    await client.subscribeAsync(`citygate/v1/gates/${gate}/cmd`, { qos: 1 });
    return client;
  }

  it('waits for the result with its nonce: 0 when done, 1 when refused', async () => {
    const { dir, trust } = await initDir();
    const gate = await responder('G1', trust, (type) => (type === 'set-mode' ? 'refused' : 'done'));
    try {
      const opened = new Captured();
      expect(await fleetCmd({ dir, broker: broker.url, gate: 'G1', type: 'open' }, opened)).toBe(0);
      expect(JSON.parse(opened.stdout[0]!)).toMatchObject({ type: 'open', result: 'done' });
      expect(JSON.parse(opened.stdout[0]!).nonce).not.toBe('someone-elses-nonce');
      const setMode = new Captured();
      expect(await fleetCmd({ dir, broker: broker.url, gate: 'G1', type: 'set-mode', mode: 'metro-exit' }, setMode)).toBe(1);
      expect(JSON.parse(setMode.stdout[0]!)).toMatchObject({ type: 'set-mode', result: 'refused', reason: 'mode-locked' });
      expect(await fleetCmd({ dir, broker: broker.url, gate: 'G1', type: 'resync', issuer: 'cq.yukuaima' }, new Captured())).toBe(0);
    } finally {
      await gate.endAsync();
    }
  });

  it('gives up after --wait with exit 2 when the gate does not answer', async () => {
    const { dir } = await initDir();
    const output = new Captured();
    expect(await fleetCmd({ dir, broker: broker.url, gate: 'G-silent', type: 'reload-trust', wait: 0.5 }, output)).toBe(2);
    expect(output.stdout).toEqual([]);
    expect(output.stderr[0]).toMatch(/no result from gate G-silent within 0\.5 s/);
  });

  it('refuses a malformed command before sending anything', async () => {
    const { dir } = await initDir();
    const cases: [object, RegExp][] = [
      [{ type: 'reboot' }, /unknown command "reboot"/],
      [{ type: 'set-mode' }, /set-mode needs a mode: one of bus, metro-entry/],
      [{ type: 'set-mode', mode: 'metro' }, /^set-mode "metro" is not a gate mode: one of bus, metro-entry, metro-exit/],
      [{ type: 'open', mode: 'bus' }, /open takes no mode/],
      [{ type: 'open', issuer: 'x' }, /--issuer goes with resync only/],
      [{ type: 'open', gate: 'G/1' }, /--gate "G\/1" is not a gate id/],
      [{ type: 'open', ttl: 0 }, /--ttl 0: the command's lifetime must be a positive whole number of seconds/],
      [{ type: 'open', ttl: -5 }, /--ttl -5: the command's lifetime must be a positive whole number of seconds/],
    ];
    for (const [options, message] of cases) {
      await expect(fleetCmd({ dir, broker: broker.url, gate: 'G1', type: 'open', ...options }, new Captured())).rejects.toThrow(message);
    }
  });
});

describe('fleet watch', () => {
  it('prints retained status and resync requests as JSON lines until stopped', async () => {
    const gate = await connectAsync(broker.url, { clientId: 'watched-gate' });
    const status = { gate: 'G-watch', online: true, backlog: 3, denyList: { 'cq.yukuaima': 4 }, alarms: ['door-forced'] };
    await gate.publishAsync('citygate/v1/gates/G-watch/status', JSON.stringify(status), { qos: 1, retain: true });
    const output = new Captured();
    const stop = new AbortController();
    const watching = fleetWatch({ broker: broker.url, gate: 'G-watch', signal: stop.signal }, output);
    try {
      await until('the retained status', () => output.stdout.length === 1);
      await gate.publishAsync('citygate/v1/gates/G-watch/resync', JSON.stringify({ gate: 'G-watch', issuer: 'cq.yukuaima', have: 4, saw: { seq: 7, base: 6 } }), { qos: 1 });
      await gate.publishAsync('citygate/v1/gates/G-watch/status', 'garbage', { qos: 1 });
      await until('three lines', () => output.stdout.length === 3);
    } finally {
      stop.abort();
      expect(await watching).toBe(0);
      await gate.publishAsync('citygate/v1/gates/G-watch/status', '', { qos: 1, retain: true });
      await gate.endAsync();
    }
    expect(output.stdout.map((line) => JSON.parse(line))).toEqual([
      { kind: 'status', ...status },
      { kind: 'resync', gate: 'G-watch', issuer: 'cq.yukuaima', have: 4, saw: { seq: 7, base: 6 } },
      { kind: 'status', gate: 'G-watch', error: 'not JSON' },
    ]);
  });
});

describe('fleet command line', () => {
  async function run(argv: string[]): Promise<{ status: number; stderr: string }> {
    const program = new Command('citygate').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerFleetCommands(program);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await runCli(program, argv);
      return { status: Number(process.exitCode ?? 0), stderr: stderr.mock.calls.map((c) => String(c[0])).join('') };
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
      process.exitCode = undefined;
    }
  }

  it('turns input errors into exit 2 with a one-line message', async () => {
    const { dir } = await initDir();
    const bad = await run(['fleet', 'deny', '--dir', dir, '--print', '--issuer', 'cq.yukuaima', '--add', 'cti:XY']);
    expect(bad).toEqual({ status: 2, stderr: 'citygate: --add "cti:XY": a cti entry is cti:<lower-case hex>\n' });
    expect((await run(['fleet', 'cmd', '--dir', dir, '--broker', broker.url, '--gate', 'G1', 'open', '--wait', 'soon'])).status).toBe(2);
    expect((await run(['fleet', 'deny', '--dir', dir, '--print', '--issuer', 'cq.yukuaima', '--add', 'card-1', 'card-2'])).status).toBe(0);
    // Issue 18: a mode given but not one of the modes is named as such; a negative --ttl is not a lifetime.
    const metro = await run(['fleet', 'cmd', '--dir', dir, '--broker', broker.url, '--gate', 'G1', 'set-mode', 'metro']);
    expect(metro).toEqual({ status: 2, stderr: 'citygate: set-mode "metro" is not a gate mode: one of bus, metro-entry, metro-exit, venue, access\n' });
    const ttl = await run(['fleet', 'cmd', '--dir', dir, '--broker', broker.url, '--gate', 'G1', 'open', '--ttl', '-5']);
    expect(ttl.status).toBe(2);
  });
});
