import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * A harness process that started a child and made a temp directory, ended
 * the ways a test worker ends: SIGTERM from the runner, a normal exit, an
 * uncaught error. Nothing it started may outlive it.
 */

const reaper = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'sim', 'exitReaper.js');

function harness(ending: string): string {
  return `
    import { spawn } from 'node:child_process';
    import { killOnExit, tempDirRemovedOnExit } from ${JSON.stringify(reaper)};
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    killOnExit(child);
    const dir = tempDirRemovedOnExit('citygate-reaper-test-');
    console.log(JSON.stringify({ pid: child.pid, dir }));
    ${ending}
  `;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function runHarness(ending: string, signal?: NodeJS.Signals): Promise<{ pid: number; dir: string; code: number | null; exitSignal: NodeJS.Signals | null }> {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', harness(ending)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const started = await new Promise<{ pid: number; dir: string }>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(JSON.parse(line) as { pid: number; dir: string });
    });
    proc.once('exit', (code) => reject(new Error(`harness exited ${code} before starting`)));
  });
  if (signal) proc.kill(signal);
  const [code, exitSignal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve([proc.exitCode, proc.signalCode]);
    else proc.once('exit', (c, s) => resolve([c, s]));
  });
  // The SIGKILL is sent synchronously on the way out; the kernel reaps the child a moment later.
  for (let i = 0; i < 200 && alive(started.pid); i++) await new Promise((r) => setTimeout(r, 10));
  return { ...started, code, exitSignal };
}

describe('exit reaper', () => {
  it('kills the children and removes the temp dirs of a harness stopped with SIGTERM, which still dies of SIGTERM', async () => {
    const run = await runHarness('setInterval(() => {}, 1000);', 'SIGTERM');
    expect(run.exitSignal).toBe('SIGTERM');
    expect(alive(run.pid)).toBe(false);
    expect(existsSync(run.dir)).toBe(false);
  });

  it('does the same on a normal exit and on an uncaught error', async () => {
    const normal = await runHarness('process.exit(0);');
    expect(normal.code).toBe(0);
    expect(alive(normal.pid)).toBe(false);
    expect(existsSync(normal.dir)).toBe(false);

    const crashed = await runHarness("setTimeout(() => { throw new Error('boom'); }, 10);");
    expect(crashed.code).toBe(1);
    expect(alive(crashed.pid)).toBe(false);
    expect(existsSync(crashed.dir)).toBe(false);
  });

  it('leaves a signal to a program that handles it itself', async () => {
    const run = await runHarness("process.on('SIGTERM', () => { console.error('own stop'); process.exit(3); });", 'SIGTERM');
    expect(run.code).toBe(3);
    // Its own stop exits, and the exit path still reaps.
    expect(alive(run.pid)).toBe(false);
    expect(existsSync(run.dir)).toBe(false);
  });
});
