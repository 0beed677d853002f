import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_REASONS, GATE_REASONS } from '../src/core/reasons.js';

/*
 * The documents and helper scripts a new user reads and runs from a fresh
 * clone: they name every reason code, link only to files the clone has, say
 * what a script needs when it is missing, and build nothing twice.
 */

const REPO = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

/** README.md, the docs and the other READMEs a user follows. */
const DOCUMENTS = ['README.md', 'provisioning/README.md', 'systemd/README.md', ...readdirSync(join(REPO, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

describe('docs/credentials.md', () => {
  it('lists every reason code of src/core/reasons.ts, and no other', () => {
    const text = read('docs/credentials.md');
    const section = text.slice(text.indexOf('## Every reason code'));
    expect(section.length).toBeLessThan(text.length);
    const listed = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual([...CONTRACT_REASONS, ...GATE_REASONS].sort());
  });
});

describe('links in the README and docs/', () => {
  it.each(DOCUMENTS)('%s links only to files in the repository, and never to ../shared', (path) => {
    const text = read(path);
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!).filter((target) => !/^(https?:|mailto:|#)/.test(target));
    for (const target of targets) {
      const file = resolve(dirname(join(REPO, path)), decodeURI(target.split('#')[0]!));
      expect(file.startsWith(`${REPO}/`) && existsSync(file), `${path}: link to ${target}`).toBe(true);
    }
    expect(text).not.toMatch(/\.\.\/shared|shared\/MISSION|\bDESIGN\.md|\bMISSION\.md|\bCARDS\.md/);
  });
});

describe('scripts/make-glyphs.mjs without Debian unifont', () => {
  it('says which package to install, with no stack trace, and writes nothing', () => {
    const glyphs = read('hal/i2c/font/glyphs.json');
    const run = spawnSync(process.execPath, [join(REPO, 'scripts', 'make-glyphs.mjs'), '/nonexistent/unifont/unifont.hex'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('cannot read /nonexistent/unifont/unifont.hex (ENOENT)');
    expect(run.stderr).toContain('sudo apt-get install unifont');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(read('hal/i2c/font/glyphs.json')).toBe(glyphs);
  });
});

describe('systemd/install.sh', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'citygate-install-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds the TypeScript once: npm ci runs the prepare build, and nothing builds it again', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.prepare).toMatch(/^tsc /);
    const root = join(dir, 'root');
    const run = spawnSync('bash', [join(REPO, 'systemd', 'install.sh'), '--dry-run', '--prefix', root], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const steps = run.stdout.split('\n').filter((line) => line.startsWith('+ '));
    const builds = steps.filter((line) => / ci( |$)/.test(line) || /\brun build\b|\btsc\b|\brun prepare\b/.test(line));
    expect(builds).toEqual([`+ npm --prefix ${root}/opt/citygate ci --no-audit --no-fund`]);
  });
});
