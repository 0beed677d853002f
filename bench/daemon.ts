import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { TestIssuer, trustListOf } from '../sim/issuer.js';

/*
 * daemon.coldstart: `citygate run` from process spawn to READY=1 on a notify
 * socket (as systemd sees it), on the simulated lane, offline. daemon.rss:
 * the daemon's resident memory after serving a few hundred codes.
 */

const require = createRequire(import.meta.url);
const BIN = fileURLToPath(new URL('../bin/citygate.js', import.meta.url));

function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kb / 1024);
}

async function oneStart(dir: string, run: number, taps: number): Promise<{ readyMs: number; rssMB: number | undefined }> {
  const unix = require('unix-dgram') as typeof import('unix-dgram');
  const socketPath = join(dir, `notify-${run}.sock`);
  let ready: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const socket = unix.createSocket('unix_dgram', (message: Buffer) => {
    if (message.toString().startsWith('READY=1')) ready();
  });
  socket.bind(socketPath);
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'run', '--config', join(dir, 'config.json')], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NOTIFY_SOCKET: socketPath } });
  let tapLines = 0;
  let served: () => void = () => undefined;
  const servedPromise = new Promise<void>((resolve) => (served = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    tapLines += chunk.toString().split('"msg":"tap"').length - 1;
    if (tapLines >= taps) served();
  });
  await readyPromise;
  const readyMs = performance.now() - t0;
  let rss: number | undefined;
  if (taps > 0) {
    const issuer = JSON.parse(readFileSync(join(dir, 'issuer.json'), 'utf8')) as { codes: string[] };
    for (const code of issuer.codes.slice(0, taps)) child.stdin.write(`${code}\n`);
    await servedPromise;
    rss = rssMB(child.pid!);
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  socket.close();
  return { readyMs, rssMB: rss };
}

export async function daemonFigures(runs: number): Promise<object[]> {
  const dir = mkdtempSync(join(process.env.BENCH_DIR || '/tmp', 'citygate-daemon-bench-'));
  try {
    const issuer = new TestIssuer('cq.yukuaima', 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const codes = Array.from({ length: 500 }, (_, i) => issuer.issuerCode({ sub: `acct-${i}`, iat: now }));
    writeFileSync(join(dir, 'issuer.json'), JSON.stringify({ codes }));
    writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer])));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        gate: { id: 'BENCH-D', site: 'bench', mode: 'metro-entry', doubleTapMs: 0 },
        paths: { state: join(dir, 'state'), trust: join(dir, 'trust.json') },
        devices: { scanners: [{ driver: 'sim', input: '-' }], barrier: { driver: 'sim' }, passage: { driver: 'sim', walkMs: 10 }, clock: { driver: 'sim' } },
        metrics: { port: 0 },
        log: { level: 'info' },
      }),
    );
    const starts: number[] = [];
    for (let run = 0; run < runs; run++) starts.push((await oneStart(dir, run, 0)).readyMs);
    const steady = await oneStart(dir, runs, 500);
    starts.sort((a, b) => a - b);
    return [
      { name: 'daemon.coldstart', unit: 'ms', n: runs, p50: Math.round(starts[Math.floor(runs / 2)]!), max: Math.round(starts[runs - 1]!), note: 'spawn to READY=1, journal and deny list on disk, page cache warm' },
      { name: 'daemon.rss', unit: 'MB', value: steady.rssMB, note: 'after serving 500 codes, offline' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  daemonFigures(Number(process.env.BENCH_DAEMON_RUNS || 5)).then((figures) => {
    for (const figure of figures) process.stdout.write(`${JSON.stringify(figure)}\n`);
  });
}
