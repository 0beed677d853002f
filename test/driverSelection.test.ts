import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import type { Tap } from '../src/core/tap.js';
import { Mosquitto } from './support/mosquitto.js';
import { waitFor } from './support/waitFor.js';
import mqtt from 'mqtt';

/*
 * Driver selection from the config file, through `citygate run`: every device
 * entry is checked against its driver before anything starts (errors name the
 * field), a missing optional device leaves the gate running degraded, and the
 * fleet sees which device is down in the status.
 */

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-drivers-'));
  writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer])));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, devices: object, extra: object = {}): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      gate: { id: `DRV-${name}`, site: 'site-drv', mode: 'metro-entry' },
      paths: { state: join(dir, name), trust: join(dir, 'trust.json') },
      metrics: { port: 0 },
      devices,
      ...extra,
    }),
  );
  return path;
}

function runOnce(config: string): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, ['dist/bin/citygate.js', 'run', '--config', config], { encoding: 'utf8', timeout: 20_000, input: '' });
  return { status: run.status, stderr: run.stderr };
}

describe('config errors stop the gate before any device starts', () => {
  it('names an unknown driver and the drivers there are', () => {
    const result = runOnce(writeConfig('unknown', { scanners: [{ driver: 'laser' }], clock: { driver: 'sim' } }));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('devices.scanners[0].driver: "laser" is not a driver here; allowed: serial, v4l2, node-webcam, sim');
  });

  it('names the field of a driver setting, the value and what is allowed', () => {
    const result = runOnce(writeConfig('badbaud', { scanners: [{ driver: 'serial', path: '/dev/ttyUSB0', baudRate: 'fast' }], clock: { driver: 'sim' } }));
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/devices\.scanners\[0\]\.baudRate: .*\(got "fast"\)/);
  });

  it('will not serve without its barrier, and says why', () => {
    const result = runOnce(writeConfig('nobarrier', { barrier: { driver: 'gpio', mode: 'level', sysfsRoot: join(dir, 'no-sysfs') }, clock: { driver: 'sim' } }));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('devices.barrier: the gpio driver did not start, and the gate cannot serve without it: ');
  });
});

describe('a gate with dead devices runs degraded and says so', () => {
  let broker: Mosquitto;

  beforeAll(async () => {
    broker = await Mosquitto.start();
  });

  afterAll(async () => {
    await broker.stop();
  });

  it('takes codes with its reader and serial scanner gone and GPIO lights missing, and publishes which devices are down', async () => {
    const config = writeConfig(
      'degraded',
      {
        readers: [{ driver: 'pcsc', socket: join(dir, 'no-pcscd.comm') }],
        scanners: [{ driver: 'serial', path: join(dir, 'no-such-tty'), baudRate: 9600 }, { driver: 'sim', input: '-' }],
        barrier: { driver: 'sim' },
        passage: { driver: 'sim', walkMs: 50 },
        indicators: { driver: 'gpio', lights: { green: { bcm: 22 } }, sysfsRoot: join(dir, 'no-sysfs') },
        clock: { driver: 'sim' },
      },
      { sync: { broker: broker.url } },
    );
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'drv-watch' });
    const statuses: { hal?: Record<string, { healthy: boolean; detail: string }> }[] = [];
    watcher.on('message', (_t, payload) => statuses.push(JSON.parse(payload.toString())));
    await watcher.subscribeAsync('citygate/v1/gates/DRV-degraded/status', { qos: 1 });

    const child = spawn(process.execPath, ['dist/bin/citygate.js', 'run', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
    const taps: Tap[] = [];
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.includes('"msg":"tap"')) taps.push((JSON.parse(line) as { tap: Tap }).tap);
    });
    try {
      await waitFor(() => out.includes('"msg":"gate ready"'), `gate ready (${out})`);
      child.stdin.write(`${issuer.issuerCode({ sub: 'acct-d', iat: Math.floor(Date.now() / 1000) })}\n`);
      await waitFor(() => taps.length === 1, 'a tap through the sim scanner');
      expect(taps[0]!.reason).toBe('ok');
      await waitFor(() => {
        const hal = statuses.at(-1)?.hal ?? {};
        return hal['reader:0']?.healthy === false && hal['scanner:0']?.healthy === false && hal.indicators?.healthy === false;
      }, 'status naming the reader, the serial scanner and the lights as down');
      const hal = statuses.at(-1)!.hal!;
      expect(hal['reader:0']!.detail).toContain('pcscd');
      expect(hal['scanner:0']!.detail).toContain('no-such-tty');
      expect(hal.indicators!.detail).toContain('gpio driver did not start');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await watcher.endAsync();
    }
  });
});
