import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simUiCommand } from '../sim/ui/simUiCommand.js';
import { DEFAULT_UI_PORT } from '../sim/ui/uiServer.js';
import { InputError } from '../src/app/settingsSchema.js';

/*
 * `citygate sim --ui` as a developer uses it: the built program as a real
 * process, its page in a real headless Chromium (Debian's), credentials
 * presented by clicking, and what the page shows checked against the
 * journal file, opened read-only beside the gate.
 */

const CHROMIUM = { executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update'] };
const CITYGATE = 'dist/bin/citygate.js';

interface JournalRow {
  seq: number;
  id: string;
  kind: string;
  issuer: string | null;
  subject: string | null;
  result: string;
  reason: string;
  fare: number | null;
  latency_ms: number;
}

function journalRows(path: string): JournalRow[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT seq, id, kind, issuer, subject, result, reason, fare, latency_ms FROM taps ORDER BY seq').all() as JournalRow[];
  } finally {
    db.close();
  }
}

/** The page's address, once the sim prints it on stderr. */
function addressOf(sim: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    sim.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(text);
      if (url) resolve(url[0]);
    });
    sim.once('exit', (code) => reject(new Error(`citygate sim --ui exited (${code}) before serving: ${text}`)));
  });
}

/** SIGTERM, as Ctrl-C or systemd would stop it; the exit code, or the signal that had to kill it. */
async function stopSim(sim: ChildProcess): Promise<number | string | null> {
  if (sim.exitCode !== null || sim.signalCode !== null) return sim.exitCode ?? sim.signalCode;
  const exited = new Promise<number | string | null>((resolve) => sim.once('exit', (code, signal) => resolve(code ?? signal)));
  sim.kill('SIGTERM');
  const timer = setTimeout(() => sim.kill('SIGKILL'), 10_000);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A raw request, with any Host and Origin: what fetch would not send. */
function rawPost(url: string, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: { reason?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { reason?: string } }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).textContent()) ?? '').trim();
const cells = (page: Page, row: string) => page.locator(`${row} td`).allTextContents();

describe('citygate sim --ui: the simulated lane in a browser', () => {
  let sim: ChildProcess;
  let browser: Browser | undefined;
  let page: Page;
  let url: string;
  const killOnExit = () => sim?.kill('SIGKILL');

  beforeAll(async () => {
    process.once('exit', killOnExit);
    sim = spawn(process.execPath, [CITYGATE, 'sim', '--ui', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    sim.stdout!.resume();
    url = await addressOf(sim);
    browser = await chromium.launch(CHROMIUM);
    page = await browser.newPage();
    await page.goto(url);
    await page.getByRole('button', { name: 'city code', exact: true }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    if (sim) await stopSim(sim);
    process.off('exit', killOnExit);
  });

  /** Present one of the scenario's passengers by its button; resolves once the page lists its tap. */
  async function present(name: string, n: number): Promise<void> {
    await page.getByRole('button', { name, exact: true }).click();
    await page.locator(`#taps tbody tr[data-n="${n}"]`).waitFor();
  }

  it('shows the idle gate, in both languages, before anyone taps', async () => {
    await page.locator('#display', { hasText: '请刷卡或扫码' }).waitFor();
    expect(await text(page, '#display')).toContain('Tap card or scan code');
    expect(await text(page, '#light-text')).toBe('off');
    expect(await text(page, '#barrier-text')).toBe('closed');
    expect(await text(page, '#gate-id')).toBe('CQ-L2-JFB-E03');
    expect(await text(page, '#gate-mode')).toBe('metro-entry');
    expect(await text(page, '#journal-count')).toBe('0');
    expect(await text(page, '#fleet')).toContain('no broker');
  });

  it('an accepted code: the tap, its screen, the passenger walking through, and the journal row', async () => {
    await present('city code', 1);
    const row = '#taps tbody tr[data-n="1"]';
    expect(await text(page, `${row} td[data-col="result"]`)).toBe('accepted');
    expect(await text(page, `${row} td[data-col="reason"]`)).toBe('ok');
    expect(await text(page, `${row} td[data-col="screen"]`)).toContain('请通行 / Please pass');
    // The passenger walks through; the barrier closes behind them.
    await page.locator('#passages', { hasText: /^1$/ }).waitFor();
    await page.locator('#barrier-text', { hasText: /^closed$/ }).waitFor();

    const path = await text(page, '#journal-path');
    const [tap] = journalRows(path);
    expect(tap).toMatchObject({ seq: 1, kind: 'code', issuer: 'cq.yukuaima', subject: 'acct-a', result: 'accepted', reason: 'ok', fare: 200 });
    expect(await text(page, `${row} td[data-col="seq"]`)).toBe('1');
    expect(await text(page, `${row} td[data-col="latency"]`)).toBe(`${tap!.latency_ms} ms`);
  });

  it('a refused code: red light and the reason on the display, in Chinese and English', async () => {
    await present('forged code', 2);
    await page.locator('#display', { hasText: '无效卡码' }).waitFor();
    expect(await text(page, '#display')).toMatch(/禁止通行\s*Refused\s*无效卡码\s*Invalid card or code/);
    expect(await text(page, '#light-text')).toBe('red');
    expect(await text(page, '#said')).toBe('refuse');
    expect(await text(page, '#barrier-text')).toBe('closed');
    expect(await text(page, '#passages')).toBe('1');
    expect(await text(page, '#taps tbody tr[data-n="2"] td[data-col="reason"]')).toBe('bad-signature');
    const tap = journalRows(await text(page, '#journal-path'))[1];
    expect(tap).toMatchObject({ seq: 2, kind: 'code', result: 'refused', reason: 'bad-signature', fare: null });
  });

  it('a card: read on the simulated reader, accepted, journaled under its number', async () => {
    await present('regular card', 3);
    await page.locator('#passages', { hasText: /^2$/ }).waitFor();
    const tap = journalRows(await text(page, '#journal-path'))[2];
    expect(tap).toMatchObject({ seq: 3, kind: 'card', issuer: 'cq.yukuaima', subject: 'C-0001', result: 'accepted', reason: 'ok', fare: 200 });
    expect((await cells(page, '#taps tbody tr[data-n="3"]')).slice(1, 5)).toEqual(['regular card', 'card', 'accepted', 'ok']);
  });

  it('shows the journal file as it is on disk: every row, in the order of the file', async () => {
    const path = await text(page, '#journal-path');
    const rows = journalRows(path);
    expect(rows).toHaveLength(3);
    await page.locator('#journal-count', { hasText: /^3$/ }).waitFor();
    const shown = await page.locator('#journal tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
    expect(shown.map((c) => [Number(c[0]), c[1], c[3], c[6], c[7], Number(c[9])])).toEqual(rows.reverse().map((r) => [r.seq, r.id, r.kind, r.result, r.reason, r.latency_ms]));
    const taps = await page.locator('#taps tbody tr[data-seq]').evaluateAll((trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.seq)));
    expect(taps).toEqual([3, 2, 1]);
  });

  it('plays a scenario on a fresh gate with its own journal: every passenger as the scenario expects', async () => {
    const before = await text(page, '#journal-path');
    await page.getByLabel('Scenario').selectOption({ label: 'No. 8 Middle School, main gate (access control) (access.json)' });
    await page.getByLabel('Pace').selectOption('0');
    await page.getByRole('button', { name: 'Play the scenario' }).click();
    await page.locator('#play-status', { hasText: /^Played/ }).waitFor();
    expect(await text(page, '#play-status')).toBe('Played “No. 8 Middle School, main gate (access control)”: 12 of 12, 0 not as the scenario expects');
    const path = await text(page, '#journal-path');
    expect(path).not.toBe(before);
    expect(await text(page, '#gate-id')).toBe('CQ-NO8-MAIN');
    const rows = journalRows(path);
    // Twelve entries, one of them a climber who presents nothing.
    expect(rows).toHaveLength(11);
    expect(rows.filter((r) => r.result === 'accepted')).toHaveLength(5);
    await page.locator('#journal-count', { hasText: /^11$/ }).waitFor();
    const verdicts = await page.locator('#taps tbody tr').evaluateAll((trs) => trs.map((tr) => tr.querySelector('td[data-col="reason"]')?.textContent));
    expect(verdicts.reverse()).toEqual(rows.map((r) => r.reason));
    expect(await page.locator('#alarms li', { hasText: 'tailgate' }).count()).toBe(2);
    // The journal of the lane before is kept as it was.
    expect(journalRows(before)).toHaveLength(3);
  });

  it('refuses actions from elsewhere and bad requests, each with its reason', async () => {
    const lane = Number(await page.evaluate(() => fetch('/api/state').then((r) => r.json()).then((s: { setup: { lane: number } }) => s.setup.lane)));
    const ok = JSON.stringify({ lane, passenger: 0 });
    expect(await rawPost(url, '/api/present', ok, { Origin: 'http://evil.example' })).toMatchObject({ status: 403, body: { reason: 'wrong-origin' } });
    expect(await rawPost(url, '/api/present', ok, { Host: 'evil.example' })).toMatchObject({ status: 421, body: { reason: 'wrong-host' } });
    expect(await rawPost(url, '/api/present', ok, { 'Content-Type': 'text/plain' })).toMatchObject({ status: 415, body: { reason: 'not-json' } });
    expect(await rawPost(url, '/api/present', JSON.stringify({ lane, passenger: -1 }), {})).toMatchObject({ status: 400, body: { reason: 'invalid-request' } });
    expect(await rawPost(url, '/api/present', JSON.stringify({ lane: lane - 1, passenger: 0 }), {})).toMatchObject({ status: 409, body: { reason: 'lane-changed' } });
    expect(await rawPost(url, '/api/present', JSON.stringify({ lane, passenger: 999 }), {})).toMatchObject({ status: 409, body: { reason: 'no-such-entry' } });
  });

  it('stops on SIGTERM: exit 0, the gate stopped and the lanes\' journals removed', async () => {
    const dir = dirname(await text(page, '#journal-path'));
    expect(existsSync(dir)).toBe(true);
    expect(await stopSim(sim)).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('citygate sim --ui: options', () => {
  /** The built program with these arguments: its exit status and stderr (killed if it outlives the test). */
  function run(...args: string[]): Promise<{ status: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CITYGATE, 'sim', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', (status) => {
        clearTimeout(timer);
        resolve({ status, stderr });
      });
    });
  }

  /** `citygate sim --help`, whose words for `--port` must name the port the page really takes. */
  function helpText(): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CITYGATE, 'sim', '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.once('error', reject);
      child.once('exit', () => resolve(stdout.replace(/\s+/g, ' ')));
    });
  }

  it('says its default port, and refuses --port without --ui in one line (exit 2)', async () => {
    const [help, alone] = await Promise.all([helpText(), run('--port', '0')]);
    expect(help).toContain(`(default ${DEFAULT_UI_PORT}; 0: any free port)`);
    expect(alone.status).toBe(2);
    expect(alone.stderr.trim()).toBe("citygate: --port is the page's port: it goes with --ui");
  });

  it('refuses a bad port and a journal of its own before starting anything', async () => {
    await expect(simUiCommand({ port: '99999' })).rejects.toThrow(new InputError('--port: a port number from 0 to 65535 (0: any free port), not "99999"'));
    await expect(simUiCommand({ port: '80a' })).rejects.toThrow(InputError);
    await expect(simUiCommand({ journal: '/tmp/x.db' })).rejects.toThrow(/it takes no --journal/);
    await expect(simUiCommand({ pcsc: true })).rejects.toThrow(/it takes no --pcsc/);
  });

  it('names a port in use and how to pick another, without a stack trace (exit 2)', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      const result = await run('--ui', '--port', String(port));
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(result.stderr).toContain('--port 0');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
