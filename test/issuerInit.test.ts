import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');
const dir = mkdtempSync(join(tmpdir(), 'citygate-issuer-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function citygate(args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('citygate issuer init on a directory that holds keys', () => {
  it('refuses, naming what it would replace, and replaces only with --force', () => {
    const keys = join(dir, 'keys');
    const init = ['issuer', 'init', '--dir', keys, '--issuer', 'cq.yukuaima:ES256'];
    expect(citygate(init).status).toBe(0);
    const key = readFileSync(join(keys, 'cq.yukuaima.key.json'), 'utf8');
    const trust = readFileSync(join(keys, 'trust.json'), 'utf8');

    const again = citygate(init);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain(`${keys} already holds`);
    for (const name of ['capk.json', 'cq.yukuaima.key.json', 'trust.json']) expect(again.stderr).toContain(name);
    expect(again.stderr).toContain('--force');
    expect(readFileSync(join(keys, 'cq.yukuaima.key.json'), 'utf8')).toBe(key);
    expect(readFileSync(join(keys, 'trust.json'), 'utf8')).toBe(trust);

    const forced = citygate([...init, '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(join(keys, 'cq.yukuaima.key.json'), 'utf8')).not.toBe(key);
  });

  it('writes into an existing directory that holds none of its files', () => {
    const keys = join(dir, 'other');
    mkdirSync(keys);
    writeFileSync(join(keys, 'notes.txt'), 'kept\n');
    const done = citygate(['issuer', 'init', '--dir', keys, '--issuer', 'cq.yukuaima:ES256']);
    expect(done.status, done.stderr).toBe(0);
    expect(readFileSync(join(keys, 'notes.txt'), 'utf8')).toBe('kept\n');
  });
});
