import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, type LogLine } from '../faults/daemonProcess.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { explainBrokerError, type LinkTlsFacts } from '../src/core/sync/brokerProblem.js';
import { countingProxy } from './support/countingProxy.js';
import { TestFleetCa, type PemPair } from '../sim/fleetCa.js';
import { freePort, Mosquitto } from './support/mosquitto.js';
import { waitFor } from './support/waitFor.js';

/*
 * A gate whose TLS set-up is wrong, against a real mosquitto that admits only
 * clients with a certificate from the fleet CA: what the technician reads is
 * one line per connection attempt naming the cause and the file to look at,
 * never OpenSSL's source-file text; and a gate whose own certificate has
 * expired says so at start, and serves offline.
 */

const EXPIRED = { from: new Date('2020-01-01T00:00:00Z'), to: new Date('2021-01-01T00:00:00Z') };
const RAW_OPENSSL = /\.\.\/deps|ssl3_|SSL routines|alert number/;

interface Attempt {
  ca?: string;
  pair?: PemPair;
}

/** One connection attempt with mqtt.js as the gate makes it; its first error. */
function firstError(url: string, attempt: Attempt): Promise<unknown> {
  const client = mqtt.connect(url, {
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...(attempt.ca ? { ca: readFileSync(attempt.ca) } : {}),
    ...(attempt.pair ? { cert: readFileSync(attempt.pair.cert), key: readFileSync(attempt.pair.key) } : {}),
  });
  return new Promise((resolve, reject) => {
    client.once('error', (error) => {
      client.end(true);
      resolve(error);
    });
    // A close with no error first would be a case the explanations do not cover: it fails the expectation instead of hanging.
    client.once('close', () => resolve({ message: 'closed without an error' }));
    client.once('connect', () => {
      client.end(true);
      reject(new Error('connected, expected a refusal'));
    });
  });
}

function factsOf(attempt: Attempt): LinkTlsFacts {
  const files = { ...(attempt.ca ? { ca: attempt.ca } : {}), ...(attempt.pair ? { cert: attempt.pair.cert, key: attempt.pair.key } : {}) };
  if (!attempt.pair) return { files };
  const certificate = new X509Certificate(readFileSync(attempt.pair.cert));
  return { files, certificate: { validFrom: new Date(certificate.validFrom), validTo: new Date(certificate.validTo) } };
}

describe('TLS failures in words', () => {
  let dir: string;
  let fleet: TestFleetCa;
  let other: TestFleetCa;
  let broker: Mosquitto;
  let plain: Mosquitto;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'citygate-tls-'));
    fleet = TestFleetCa.make(join(dir, 'fleet'));
    other = TestFleetCa.make(join(dir, 'other'), 'someone-else');
    const brokerPair = fleet.broker('127.0.0.1');
    broker = await Mosquitto.start({ tls: { ca: fleet.ca.cert, cert: brokerPair.cert, key: brokerPair.key } });
    plain = await Mosquitto.start();
  });

  afterAll(async () => {
    await broker?.stop();
    await plain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each<[string, () => { url: string; attempt: Attempt }, RegExp, string]>([
    ["this gate's certificate expired", () => ({ url: broker.url, attempt: { ca: fleet.ca.cert, pair: fleet.device('G-1', EXPIRED) } }), /^the broker refused this gate's certificate \(.*device-G-1-\d+\.pem\): it expired on 2021-01-01T00:00:00Z; have it signed again/, 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED'],
    ["this gate's certificate from another CA", () => ({ url: broker.url, attempt: { ca: fleet.ca.cert, pair: other.device('G-2') } }), /^the broker refused this gate's certificate \(.*\): it is not signed by a CA the broker trusts/, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
    ['no client certificate', () => ({ url: broker.url, attempt: { ca: fleet.ca.cert } }), /^the broker requires a client certificate and none is configured \(sync\.tls\.cert/, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'],
    ["the broker's certificate not from the CA in sync.tls.ca", () => ({ url: broker.url, attempt: { ca: other.ca.cert, pair: fleet.device('G-3') } }), /^the broker's certificate is not signed by the CA in .*other\/ca\.pem \(sync\.tls\.ca\)$/, 'SELF_SIGNED_CERT_IN_CHAIN'],
    ['a host name the broker certificate is not for', () => ({ url: broker.url.replace('127.0.0.1', 'localhost'), attempt: { ca: fleet.ca.cert, pair: fleet.device('G-4') } }), /^the broker's certificate is not made out for localhost, the host in sync\.broker/, 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['mqtts:// to a plain MQTT port', () => ({ url: `mqtts://127.0.0.1:${plain.port}`, attempt: { ca: fleet.ca.cert, pair: fleet.device('G-5') } }), /closed the connection: the broker went away, or that port does not speak TLS$/, 'ECONNRESET'],
  ])('%s', async (_name, setUp, words, code) => {
    const { url, attempt } = setUp();
    const problem = explainBrokerError(await firstError(url, attempt), url, factsOf(attempt), Date.now());
    expect(problem.code).toBe(code);
    expect(problem.text).toMatch(words);
    expect(problem.text).not.toMatch(RAW_OPENSSL);
  });

  it('nothing listening', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const problem = explainBrokerError(await firstError(url, {}), url, { files: {} }, Date.now());
    expect(problem).toEqual({ code: 'ECONNREFUSED', text: expect.stringMatching(/^nothing listens at 127\.0\.0\.1:\d+: the broker is down, or sync\.broker names the wrong port$/) });
  });

  describe('the daemon', () => {
    const running: DaemonProcess[] = [];
    const issuer = new TestIssuer('cq.yukuaima', 'ES256');

    afterAll(async () => {
      for (const daemon of running) await daemon.stop(2_000);
    });

    function configFor(name: string, brokerPort: number, tls: { ca: string; cert: string; key: string }): string {
      const gateDir = join(dir, name);
      const trust = join(dir, 'trust.json');
      writeFileSync(trust, JSON.stringify(trustListOf([issuer])));
      const config = join(dir, `${name}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          gate: { id: name, site: 'site-tls', mode: 'metro-entry', fares: { default: 200, byCategory: {} } },
          paths: { state: join(gateDir, 'state'), trust },
          sync: { broker: `mqtts://127.0.0.1:${brokerPort}`, tls },
          devices: { scanners: [{ driver: 'sim', input: '-' }], barrier: { driver: 'sim' }, passage: { driver: 'sim', walkMs: 50 }, indicators: { driver: 'sim' }, display: { driver: 'sim' }, clock: { driver: 'sim', trusted: true } },
          metrics: { port: 0 },
          log: { level: 'info' },
        }),
      );
      return config;
    }

    const failures = (daemon: DaemonProcess): LogLine[] => daemon.lines.filter((line) => line.msg.startsWith('broker connection failed'));

    it("with its certificate expired: says so at start, serves offline, and logs each refused attempt once, in words", async () => {
      const device = fleet.device('GATE-EXPIRED', EXPIRED);
      const proxy = await countingProxy(broker.port);
      try {
        const daemon = new DaemonProcess('dist/bin/citygate.js', configFor('GATE-EXPIRED', proxy.port, { ca: fleet.ca.cert, ...device }));
        running.push(daemon);
        const ready = await daemon.waitForLine((line) => line.msg === 'gate ready', 20_000);
        expect(ready, daemon.stderr).toBeDefined();
        expect(ready!.certificate).toBe('expired on 2021-01-01T00:00:00Z');
        const said = daemon.lines.find((line) => line.level === 50 && line.msg.includes("this gate's certificate"));
        expect(said?.msg).toContain(`this gate's certificate ${device.cert} expired on 2021-01-01T00:00:00Z`);
        expect(said?.msg).toContain('serves offline');

        // Offline, it still serves the lane.
        const tap = await daemon.tapFor(issuer.issuerCode({ sub: 'acct-1', iat: Math.floor(Date.now() / 1000) }));
        expect(tap.result).toBe('accepted');

        await waitFor(() => failures(daemon).length >= 2, `two refused attempts logged (${JSON.stringify(daemon.lines.slice(-5))})`, 20_000);
        expect(await daemon.stop()).toBe(0);
        for (const line of failures(daemon)) {
          expect(line.msg).toBe(`broker connection failed: the broker refused this gate's certificate (${device.cert}): it expired on 2021-01-01T00:00:00Z; have it signed again and install it with "citygate provision install-cert"`);
          expect(line.code).toBe('ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED');
        }
        expect(daemon.lines.filter((line) => RAW_OPENSSL.test(JSON.stringify(line)))).toEqual([]);
        // One line per attempt: the attempt under way when it stopped may not have been logged.
        expect(failures(daemon).length).toBeLessThanOrEqual(proxy.connections());
        expect(failures(daemon).length).toBeGreaterThanOrEqual(proxy.connections() - 1);
      } finally {
        await proxy.close();
      }
    });

    it("with a key that is not its certificate's: says so in words and serves offline, where the link's set-up used to throw", async () => {
      const device = fleet.device('GATE-MISMATCH');
      const stranger = fleet.device('GATE-STRANGER');
      const daemon = new DaemonProcess('dist/bin/citygate.js', configFor('GATE-MISMATCH', broker.port, { ca: fleet.ca.cert, cert: device.cert, key: stranger.key }));
      running.push(daemon);
      const ready = await daemon.waitForLine((line) => line.msg === 'gate ready', 20_000);
      expect(ready, daemon.stderr).toBeDefined();
      expect(ready!.certificate).toBe('not for this key');
      const errors = daemon.lines.filter((line) => line.level === 50).map((line) => line.msg);
      expect(errors).toContain(`this gate's certificate ${device.cert} (sync.tls.cert) is not for its key ${stranger.key} (sync.tls.key): the broker link cannot work; the gate serves offline until the certificate signed for this key is installed (citygate provision install-cert)`);
      expect(errors).toContain(`broker link not started, the gate serves offline: this gate's key ${stranger.key} (sync.tls.key) does not belong to its certificate ${device.cert} (sync.tls.cert): install the certificate signed for this key`);
      const tap = await daemon.tapFor(issuer.issuerCode({ sub: 'acct-2', iat: Math.floor(Date.now() / 1000) }));
      expect(tap.result).toBe('accepted');
      expect(await daemon.stop()).toBe(0);
      expect(daemon.stderr).not.toMatch(/\n\s+at /);
    });

    it("with the wrong CA file: one line per attempt naming the file, though Node reports the failure twice", async () => {
      const device = fleet.device('GATE-WRONG-CA');
      const proxy = await countingProxy(broker.port);
      try {
        const daemon = new DaemonProcess('dist/bin/citygate.js', configFor('GATE-WRONG-CA', proxy.port, { ca: other.ca.cert, ...device }));
        running.push(daemon);
        await waitFor(() => failures(daemon).length >= 2, `two refused attempts logged (${daemon.stderr} ${JSON.stringify(daemon.lines.slice(-5))})`, 20_000);
        const ready = daemon.lines.find((line) => line.msg === 'gate ready');
        expect(ready?.certificate).toMatch(/^valid until /);
        expect(daemon.lines.filter((line) => line.level === 50)).toEqual([]);
        expect(await daemon.stop()).toBe(0);
        for (const line of failures(daemon)) expect(line.msg).toBe(`broker connection failed: the broker's certificate is not signed by the CA in ${other.ca.cert} (sync.tls.ca)`);
        expect(failures(daemon).length).toBeLessThanOrEqual(proxy.connections());
        expect(failures(daemon).length).toBeGreaterThanOrEqual(proxy.connections() - 1);
      } finally {
        await proxy.close();
      }
    });
  });
});
