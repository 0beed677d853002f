import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Output } from '../provisioning/fleet/delivery.js';
import { fleetDeny } from '../provisioning/fleet/fleetDeny.js';
import { fleetInit } from '../provisioning/fleet/fleetInit.js';
import { fleetRevoke } from '../provisioning/fleet/fleetRevoke.js';
import { fleetTrust } from '../provisioning/fleet/fleetTrust.js';
import { fleetServe } from '../provisioning/fleet/serve/fleetServe.js';
import type { Jwk } from '../src/core/credentials/trustList.js';
import { silentLog } from '../src/core/log.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { Mosquitto } from './support/mosquitto.js';
import { startSyncGate, type SyncGate } from './support/syncGate.js';

/*
 * The dashboard of `citygate fleet serve` in a real headless Chromium
 * (Debian's), while two simulated gates connect, take taps, go offline and
 * take a deny-list push: the page follows each change over its live feed,
 * without a reload.
 */

const CHROMIUM = { executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update'] };
const root = mkdtempSync(join(tmpdir(), 'citygate-fleet-dashboard-'));
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const cleanups: (() => Promise<unknown> | void)[] = [];
let broker: Mosquitto;
let dir: string;
let jwk: Jwk;
let base: string;
let browser: Browser;
let page: Page;

class Quiet implements Output {
  readonly stdout: string[] = [];
  out = (line: string): void => void this.stdout.push(line);
  err = (): void => {};
}

async function gate(gateId: string, site: string): Promise<SyncGate> {
  const gateDir = mkdtempSync(join(root, `${gateId}-`));
  writeFileSync(join(gateDir, 'trust.json'), JSON.stringify(trustListOf([issuer], [jwk])));
  const started = await startSyncGate({ url: broker.url, gateId, site, issuers: [issuer], fleet: [], dir: gateDir, startWallMs: Date.now() });
  cleanups.push(() => started.dispose());
  return started;
}

beforeAll(async () => {
  broker = await Mosquitto.start();
  cleanups.push(() => broker.stop());
  dir = join(root, 'ops');
  const init = new Quiet();
  expect(fleetInit({ dir }, init)).toBe(0);
  jwk = JSON.parse(init.stdout[0]!) as Jwk;
  const trustFile = join(root, 'trust.json');
  writeFileSync(trustFile, JSON.stringify(trustListOf([issuer], [jwk])));
  expect(await fleetTrust({ dir, file: trustFile, broker: broker.url }, new Quiet())).toBe(0);
  expect(await fleetDeny({ dir, issuer: issuer.id, add: ['acct-denied-1'], broker: broker.url, wait: 1 }, new Quiet())).toBe(0);
  // Signed for 3 days: the page warns that it runs out within the week.
  expect(await fleetRevoke({ dir, add: ['A000000333:03:00012F'], validDays: 3, broker: broker.url }, new Quiet())).toBe(0);
  const stop = new AbortController();
  let listening: (url: string) => void = () => {};
  const address = new Promise<string>((resolve) => (listening = resolve));
  const served = fleetServe({ dir, broker: broker.url, http: '127.0.0.1:0', clientId: `dashboard-${process.pid}`, signal: stop.signal, onListening: listening, log: silentLog });
  cleanups.push(async () => {
    stop.abort();
    await served;
  });
  base = await address;
  browser = await chromium.launch(CHROMIUM);
  cleanups.push(() => browser.close());
  page = await browser.newPage();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(root, { recursive: true, force: true });
});

const row = (gateId: string) => page.locator(`#gates tr[data-gate="${gateId}"]`);

describe('fleet dashboard', () => {
  it('shows every gate live: online, site, mode, deny-list seq, clock; taps per site; a gate going offline; a deny-list push', async () => {
    await page.goto(base);
    await expect.poll(() => page.locator('#feed').textContent()).toBe('live');
    await expect.poll(() => page.locator('#broker').getAttribute('class')).toContain('connected');
    await expect.poll(() => page.locator('#trust-seq').textContent()).toBe('1');
    expect(await page.locator('#revocation-seq').textContent()).toBe('1');
    expect(await page.locator('#revocation-exp').textContent()).toMatch(/^expires /);
    expect(await page.locator('#revocation-exp').getAttribute('class')).toBe('expiring');

    const north = await gate('G-D1', 'site-north');
    const south = await gate('G-D2', 'site-south');
    await expect.poll(() => row('G-D1').getAttribute('data-state')).toBe('online');
    await expect.poll(() => row('G-D2').getAttribute('data-state')).toBe('online');
    await expect.poll(() => row('G-D1').locator('td').nth(3).textContent()).toBe('site-north');
    expect(await row('G-D1').locator('td').nth(2).textContent()).toBe('metro-entry');
    expect(await row('G-D1').locator('td').nth(6).textContent()).toMatch(/^(trusted|untrusted)$/);
    await expect.poll(() => row('G-D2').locator('[data-field="denyList"]').textContent()).toBe('cq.yukuaima: 1');
    await expect.poll(() => page.locator('#summary').textContent()).toBe('2 gates, 2 online');

    // Taps at the north gate: the chart's north line counts them, the south line has none.
    for (let i = 0; i < 3; i++) {
      const outcome = await north.gate.presentCode(issuer.issuerCode({ sub: `acct-${i}`, iat: north.nowSec() }));
      expect(outcome.type).toBe('tap');
    }
    await expect.poll(() => page.locator('#taps g[data-site="site-north"]').getAttribute('data-total'), { timeout: 10_000 }).toBe('3');
    expect(await page.locator('#taps g[data-site="site-south"]').count()).toBe(0);
    expect(await page.locator('#legend li[data-site="site-north"]').textContent()).toContain('3 in 30 min');

    // One gate stops: the page shows it offline, the other stays online.
    await south.stop();
    await expect.poll(() => row('G-D2').getAttribute('data-state')).toBe('offline');
    expect(await row('G-D2').locator('[data-field="state"]').textContent()).toBe('offline');
    expect(await row('G-D1').getAttribute('data-state')).toBe('online');
    await expect.poll(() => page.locator('#summary').textContent()).toBe('2 gates, 1 online');

    // A push: the fleet's seq and the online gate's seq move on the page.
    expect(await fleetDeny({ dir, issuer: issuer.id, add: ['acct-denied-2'], broker: broker.url }, new Quiet())).toBe(0);
    await expect.poll(() => page.locator('#issuers tr[data-issuer="cq.yukuaima"] [data-field="seq"]').textContent()).toBe('2');
    await expect.poll(() => row('G-D1').locator('[data-field="denyList"]').textContent()).toBe('cq.yukuaima: 2');
    expect(await row('G-D2').locator('[data-field="denyList"]').textContent()).toBe('');
  });
});
