import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * `citygate sim` as a developer meets it on the first day: piped into jq,
 * interrupted with Ctrl-C, pointed at a journal file twice, and first run
 * through `npm run sim` on a fresh checkout.
 */

const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'dist', 'bin', 'citygate.js');
const SCENARIOS = join(REPO, 'sim', 'scenarios');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-firstday-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sim(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [CLI, 'sim', ...args], { cwd: REPO, encoding: 'utf8', env, timeout: 120_000 });
}

/** stdout and stderr into one file, as `2>&1` does: the order the lines were written in. */
function simInterleaved(args: string[]): { status: number | null; lines: string[] } {
  const path = join(dir, `interleaved-${Math.random().toString(16).slice(2)}.log`);
  const fd = openSync(path, 'w');
  try {
    const run = spawnSync(process.execPath, [CLI, 'sim', ...args], { cwd: REPO, stdio: ['ignore', fd, fd], timeout: 120_000 });
    return { status: run.status, lines: readFileSync(path, 'utf8').trimEnd().split('\n') };
  } finally {
    closeSync(fd);
  }
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function tapsIn(journal: string): number {
  const db = new Database(journal, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM taps').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('citygate sim output', () => {
  it.each(['access', 'emergency'])('%s scenario: the summary is the last line, after every log line the run wrote', (name) => {
    const run = simInterleaved(['--scenario', join(SCENARIOS, `${name}.json`)]);
    expect(run.status, run.lines.join('\n')).toBe(0);
    // These scenarios log alarms and the emergency release at their very end.
    expect(run.lines.some((line) => line.includes('"level":40'))).toBe(true);
    expect(Object.keys(JSON.parse(run.lines.at(-1)!) as object)).toEqual(['summary']);
  });

});

describe('citygate sim --journal', () => {
  it('refuses an existing journal unless --append, and with it continues the journal saying so', () => {
    const journal = join(dir, 'access.db');
    const first = sim(['--scenario', join(SCENARIOS, 'access.json'), '--journal', journal]);
    expect(first.status, first.stderr).toBe(0);
    const taps = tapsIn(journal);
    expect(taps).toBeGreaterThan(0);
    const before = statSync(journal).mtimeMs;

    const again = sim(['--scenario', join(SCENARIOS, 'access.json'), '--journal', journal]);
    expect(again.status).toBe(2);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`--journal ${journal} exists`);
    expect(again.stderr).toContain('--append');
    expect(again.stderr).not.toMatch(/\n\s+at /);
    expect(statSync(journal).mtimeMs).toBe(before);
    expect(tapsIn(journal)).toBe(taps);

    // The access rules keep no history, so a second run passes as the first did (a venue's capacity would not).
    const appended = sim(['--scenario', join(SCENARIOS, 'access.json'), '--journal', journal, '--append']);
    expect(appended.status, appended.stderr).toBe(0);
    expect(appended.stderr).toContain(`continuing the existing journal ${journal}`);
    expect(tapsIn(journal)).toBe(2 * taps);

    const stray = sim(['--scenario', join(SCENARIOS, 'venue.json'), '--append']);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toContain('--append');
  });
});

describe('citygate sim --pcsc', () => {
  /** Processes whose command line names `text` (a private temp dir): what a run left running. */
  function processesNaming(text: string): string[] {
    const found: string[] = [];
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
      } catch {
        // Gone between the listing and the read.
      }
    }
    return found;
  }

  // Through npm, as the README has it: setup (here only the build) first, then the run.
  it('npm run sim -- --pcsc: stdout is the taps as JSON lines only, no npm banner; the summary last on stderr, with byReason as in the other sims', () => {
    const run = spawnSync('npm', ['run', 'sim', '--', '--pcsc'], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
    expect(run.status, run.stderr).toBe(0);
    const taps = jsonLines(run.stdout);
    expect(taps).toHaveLength(11);
    for (const tap of taps) expect(tap).toMatchObject({ id: expect.any(String), reason: expect.any(String), passenger: expect.any(String), reader: expect.any(String) });
    const last = JSON.parse(run.stderr.trimEnd().split('\n').at(-1)!) as { summary: Record<string, unknown> };
    expect(last.summary).toMatchObject({ taps: 11, accepted: 5, mismatches: 0 });
    expect(last.summary.byReason).toEqual({ ok: 5, 'card-auth-failed': 2, 'card-not-supported': 2, 'card-removed': 1, expired: 1 });
    expect(last.summary).not.toHaveProperty('byResult');
  });

  it('Ctrl-C mid-run stops pcscd and leaves no temp directory', async () => {
    const temp = mkdtempSync(join(dir, 'tmp-'));
    const child = spawn(process.execPath, [CLI, 'sim', '--pcsc'], { cwd: REPO, env: { ...process.env, TMPDIR: temp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // The first tap: pcscd runs, the journal and the temp directories exist.
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', () => reject(new Error(`sim --pcsc ended before its first tap: ${stderr}`)));
      });
      expect(readdirSync(temp).length).toBeGreaterThan(0);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(readdirSync(temp)).toEqual([]);
      expect(processesNaming(temp)).toEqual([]);
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(temp, { recursive: true, force: true });
    }
  });
});

describe('scripts/setup.sh on a fresh checkout', () => {
  /** setup.sh in a scratch checkout whose npm, npx and apt-get only log that they ran; dpkg knows no package. */
  function scratchCheckout(): { root: string; calls: string; run: (args: string[]) => ReturnType<typeof spawnSync> } {
    const root = mkdtempSync(join(dir, 'checkout-'));
    mkdirSync(join(root, 'scripts'));
    mkdirSync(join(root, 'stubs'));
    copyFileSync(join(REPO, 'scripts', 'setup.sh'), join(root, 'scripts', 'setup.sh'));
    writeFileSync(join(root, 'package-lock.json'), '{}\n');
    const calls = join(root, 'calls.log');
    for (const [tool, exit] of [['npm', 0], ['npx', 0], ['apt-get', 0], ['dpkg', 1]] as const) {
      const stub = join(root, 'stubs', tool);
      writeFileSync(stub, `#!/bin/sh\necho "${tool} $*" >> ${calls}\necho "${tool} output"\nexit ${exit}\n`);
      chmodSync(stub, 0o755);
    }
    return { root, calls, run: (args) => spawnSync('bash', [join(root, 'scripts', 'setup.sh'), ...args], { encoding: 'utf8', env: { ...process.env, PATH: `${join(root, 'stubs')}:/usr/bin:/bin` } }) };
  }

  it('says on stderr what each long step does, and writes nothing on stdout', () => {
    const checkout = scratchCheckout();
    const first = checkout.run(['--system']);
    expect(first.status, String(first.stderr)).toBe(0);
    expect(first.stdout).toBe('');
    const said = String(first.stderr);
    expect(said).toMatch(/setup: installing the Debian packages .*pcscd.* \(apt-get; a few minutes the first time\)/);
    expect(said).toMatch(/setup: Debian packages installed in \d+ s/);
    expect(said).toMatch(/setup: npm ci: fetching the npm packages, compiling the native ones .* and building the TypeScript; a few minutes the first time/);
    expect(said).toMatch(/setup: npm packages installed and built in \d+ s/);
    expect(readFileSync(checkout.calls, 'utf8')).toMatch(/^npm ci .*--loglevel=notice/m);

    // Installed: the next run only builds, and says so.
    mkdirSync(join(checkout.root, 'node_modules'));
    writeFileSync(join(checkout.root, 'node_modules', '.package-lock.json'), '{}\n');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(checkout.root, 'node_modules', '.package-lock.json'), later, later);
    const second = checkout.run([]);
    expect(second.status, String(second.stderr)).toBe(0);
    expect(second.stdout).toBe('');
    expect(String(second.stderr)).toContain('setup: building the TypeScript (tsc -p tsconfig.json)');
    expect(readFileSync(checkout.calls, 'utf8')).toMatch(/^npx --no-install tsc -p tsconfig.json$/m);
  });
});
