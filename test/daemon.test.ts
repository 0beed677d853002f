import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from '../faults/daemonProcess.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import type { Tap } from '../src/core/tap.js';
import { Mosquitto } from './support/mosquitto.js';
import { waitFor } from './support/waitFor.js';

/*
 * The daemon as a user runs it: `citygate run --config` as a child process on
 * the simulated lane (codes on stdin), against a real mosquitto, with deny-list
 * updates signed by an independent Python signer and published with
 * mosquitto_pub, as another team's fleet backend would.
 */

const GATE = 'D-GATE-1';
const SITE = 'site-d';

const running: DaemonProcess[] = [];

function startDaemon(config: string): DaemonProcess {
  const daemon = new DaemonProcess('dist/bin/citygate.js', config);
  running.push(daemon);
  return daemon;
}

describe('citygate run: the daemon on the simulated lane with a real broker', () => {
  let broker: Mosquitto;
  let dir: string;
  let issuer: TestIssuer;
  let fleetKid: string;
  let config: string;
  let collector: MqttClient;
  const received = new Map<string, Tap>();
  const statuses: Record<string, unknown>[] = [];

  beforeAll(async () => {
    broker = await Mosquitto.start();
    dir = mkdtempSync(join(tmpdir(), 'citygate-daemon-'));
    issuer = new TestIssuer('cq.yukuaima', 'ES256');
    const fleet = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'fleet.pem'), fleet.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    fleetKid = randomBytes(8).toString('base64url');
    const fleetJwk = fleet.publicKey.export({ format: 'jwk' });
    const trust = trustListOf([issuer], [{ kid: fleetKid, alg: 'ES256', kty: 'EC', crv: 'P-256', x: fleetJwk.x!, y: fleetJwk.y! }]);
    writeFileSync(join(dir, 'trust.json'), JSON.stringify(trust));
    config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        gate: { id: GATE, site: SITE, mode: 'metro-entry', fares: { default: 200, byCategory: {} } },
        paths: { state: join(dir, 'state'), trust: join(dir, 'trust.json') },
        sync: { broker: broker.url },
        devices: { scanners: [{ driver: 'sim', input: '-' }], barrier: { driver: 'sim' }, passage: { driver: 'sim', walkMs: 50 }, indicators: { driver: 'sim' }, display: { driver: 'sim' }, clock: { driver: 'sim' } },
        metrics: { port: 0 },
      }),
    );
    collector = await mqtt.connectAsync(broker.url, { clientId: 'daemon-test-collector' });
    await collector.subscribeAsync([`citygate/v1/gates/${GATE}/taps`, `citygate/v1/gates/${GATE}/status`], { qos: 1 });
    collector.on('message', (topic, payload) => {
      const message = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (topic.endsWith('/status')) {
        statuses.push(message);
        return;
      }
      const batch = message as unknown as { taps: Tap[] };
      for (const tap of batch.taps) received.set(tap.id, tap);
      const upTo = Math.max(...batch.taps.map((t) => t.seq));
      collector.publishAsync(`citygate/v1/gates/${GATE}/taps/ack`, JSON.stringify({ upTo }), { qos: 1 }).catch(() => undefined);
    });
  });

  afterAll(async () => {
    for (const daemon of running) daemon.kill('SIGKILL');
    await collector?.endAsync();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function code(sub: string): string {
    return issuer.issuerCode({ sub, iat: Math.floor(Date.now() / 1000) });
  }

  function publishSigned(topic: string, payload: object, name: string, cbor = false): void {
    const payloadFile = join(dir, `${name}.json`);
    const out = join(dir, `${name}.cose`);
    writeFileSync(payloadFile, JSON.stringify(payload));
    // Every message here is a deny-list update: signed for that purpose (docs/sync.md).
    execFileSync('/usr/bin/python3', ['test/interop/fleet_message.py', join(dir, 'fleet.pem'), fleetKid, 'citygate-denylist', payloadFile, out, ...(cbor ? ['--cbor'] : [])]);
    execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-t', topic, '-f', out]);
  }

  it('serves codes, takes deny-list updates from an independent fleet backend, uploads every tap, and stops cleanly', async () => {
    const gate = startDaemon(config);
    await waitFor(() => gate.lines.some((l) => l.msg === 'connected to the broker'), `daemon connected (stderr: ${gate.stderr})`);

    gate.scan(code('acct-ok'));
    gate.scan(code('acct-bad'));
    await waitFor(() => gate.taps().length === 2, 'two taps');
    expect(gate.taps().map((t) => [t.subject, t.reason])).toEqual([
      ['acct-ok', 'ok'],
      ['acct-bad', 'ok'],
    ]);

    // A snapshot as JSON payload, then a delta as CBOR payload: both forms docs/sync.md allows.
    publishSigned('citygate/v1/denylist/cq.yukuaima', { issuer: 'cq.yukuaima', seq: 1, base: 0, add: ['acct-bad'], remove: [], issuedAt: Math.floor(Date.now() / 1000) }, 'deny1');
    await waitFor(() => gate.lines.some((l) => l.msg === 'deny-list update' && (l.result as { status: string }).status === 'applied'), 'deny-list snapshot applied');
    gate.scan(code('acct-bad'));
    gate.scan(code('acct-ok'));
    await waitFor(() => gate.taps().length === 4, 'four taps');
    expect(gate.taps().slice(2).map((t) => [t.subject, t.reason])).toEqual([
      ['acct-bad', 'deny-listed'],
      ['acct-ok', 'ok'],
    ]);

    publishSigned('citygate/v1/denylist/cq.yukuaima', { issuer: 'cq.yukuaima', seq: 2, base: 1, add: ['acct-ok'], remove: ['acct-bad'], issuedAt: Math.floor(Date.now() / 1000) }, 'deny2', true);
    await waitFor(() => gate.lines.filter((l) => l.msg === 'deny-list update' && (l.result as { status: string }).status === 'applied').length === 2, 'deny-list delta applied');
    gate.scan(code('acct-ok'));
    gate.scan(code('acct-bad'));
    await waitFor(() => gate.taps().length === 6, 'six taps');
    expect(gate.taps().slice(4).map((t) => [t.subject, t.reason])).toEqual([
      ['acct-ok', 'deny-listed'],
      ['acct-bad', 'ok'],
    ]);

    // Signed by a key the gate does not hold: refused, nothing changes.
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'fleet.pem'), stranger.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    publishSigned('citygate/v1/denylist/cq.yukuaima', { issuer: 'cq.yukuaima', seq: 3, base: 2, add: ['acct-bad'], remove: [], issuedAt: 0 }, 'forged');
    await waitFor(() => gate.lines.some((l) => l.msg === 'deny-list update refused'), 'forged update refused');
    expect(gate.lines.find((l) => l.msg === 'deny-list update refused')!.reason).toBe('bad-signature');

    await waitFor(() => received.size === 6, 'all six taps at the collector');
    expect([...received.values()].map((t) => t.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    await waitFor(() => statuses.some((s) => s.online === true && (s.denyList as Record<string, number>)['cq.yukuaima'] === 2), 'status shows deny-list seq 2');

    expect(await gate.stop()).toBe(0);
    expect(gate.lines.some((l) => l.msg === 'gate stopped')).toBe(true);
    await waitFor(() => statuses.at(-1)?.online === false, 'offline status after a clean stop');
  });
});
